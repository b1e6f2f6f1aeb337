/*
 * Shows the DSFR "Afficher" box of the password fields that have no live checklist (the sign-in).
 *
 * The box ([data-password-toggle] inside a .fr-password group) carries the class fr-hidden so
 * that browsers without JavaScript, where it could do nothing, do not show it; DSFR's own script
 * does the showing of the password. (password-checks.js does the same for the new-password fields.)
 */
(function () {
  "use strict";

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll(".fr-password [data-password-toggle]"), function (toggle) {
      toggle.classList.remove("fr-hidden");
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
