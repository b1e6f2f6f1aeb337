/**
 * The few HTML pages of the local FranceConnect provider, in French: the choice of a demo
 * identity (what a newcomer sees after the FranceConnect button under `make run`), and the
 * error and information pages. Plain forms: they work without JavaScript.
 */

export function escapeHtml(value) {
  return String(value ?? '')
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

function page(title, body) {
  return `<!DOCTYPE html>
<html lang="fr">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${escapeHtml(title)} – FranceConnect de démonstration</title>
  <style>
    body { font-family: Marianne, Arial, sans-serif; max-width: 42rem; margin: 2rem auto; padding: 0 1rem; color: #161616; }
    .bandeau { background: #fef7da; border-left: 4px solid #b34000; padding: .75rem 1rem; }
    ul { list-style: none; padding: 0; }
    li { margin: .75rem 0; }
    button { font: inherit; width: 100%; text-align: left; padding: .75rem 1rem; border: 1px solid #000091;
             background: #fff; color: #000091; cursor: pointer; }
    button:hover, button:focus { background: #000091; color: #fff; }
    button.secondaire { border-color: #666; color: #3a3a3a; }
    .detail { display: block; font-size: .875rem; }
  </style>
</head>
<body>
  <main>
    <p class="bandeau">Fournisseur FranceConnect de démonstration, local : aucune vraie donnée, aucun mot de passe.</p>
    ${body}
  </main>
</body>
</html>`;
}

/** The list of identities.json's people, each a submit button of one form (POST). */
export function identityChoicePage(action, identities) {
  const buttons = Object.entries(identities)
    .map(
      ([key, identity]) => `<li><button type="submit" name="identity" value="${escapeHtml(key)}">
        <strong>${escapeHtml(identity.claims.given_name)} ${escapeHtml(identity.claims.family_name)}</strong>
        <span class="detail">${escapeHtml(identity.description)}</span></button></li>`,
    )
    .join('\n');
  return page(
    'Choisissez une identité de démonstration',
    `<h1>Choisissez une identité de démonstration</h1>
    <p>Le service vous a envoyé vers FranceConnect. Choisissez la personne avec laquelle vous voulez vous connecter.</p>
    <form method="post" action="${escapeHtml(action)}">
      <ul>
${buttons}
        <li><button type="submit" name="identity" value="" class="secondaire">Annuler et revenir sur le service</button></li>
      </ul>
    </form>`,
  );
}

export function messagePage(title, message) {
  return page(title, `<h1>${escapeHtml(title)}</h1>\n    <p>${escapeHtml(message)}</p>`);
}
