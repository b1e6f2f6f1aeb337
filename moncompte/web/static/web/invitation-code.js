/*
 * The invitation page (/invitation/): the code of the message's link, copied from the fragment.
 *
 * The link is /invitation/#XXXX-XXXX-XXXX-XXXX: browsers never send a fragment, so the code
 * reaches neither the server's access log nor a proxy's. This script copies it into the
 * [data-invitation-code] field (unless the person already typed something) and takes it out of
 * the address bar and the history (history.replaceState). Without JavaScript the person types
 * the code shown in the message: the server accepts it in any case, with spaces or dashes.
 * Only a fragment shaped like a code is taken: the page's own anchors (#contenu) stay anchors.
 */
(function () {
  "use strict";

  var CODE = /^[0-9A-Za-z]{4}(?:[\s-]?[0-9A-Za-z]{4}){3}$/;

  var field = document.querySelector("[data-invitation-code]");
  var fragment = window.location.hash.slice(1);
  if (!field || !fragment) {
    return;
  }
  var code;
  try {
    code = decodeURIComponent(fragment).trim();
  } catch (error) {
    return; // A malformed escape: not a code.
  }
  if (!CODE.test(code)) {
    return;
  }
  if (!field.value) {
    field.value = code.toUpperCase();
  }
  if (window.history && window.history.replaceState) {
    window.history.replaceState(null, "", window.location.pathname + window.location.search);
  }
})();
