/*
 * Live checklist for choosing a password (progressive enhancement).
 *
 * For each <input data-password-checks="ID" data-min-length="12">, the <ul id="ID"> lists the
 * rules; its <li data-rule="length|letter|digit"> items are marked as met (DSFR class
 * fr-message--valid) or not yet (fr-message--info) as the person types, and the element
 * [data-password-summary] of the same .fr-password block (an aria-live="polite" region) says how
 * many are met once typing pauses. The "Afficher" box ([data-password-toggle], hidden by the
 * class fr-hidden for browsers without JavaScript) is shown; DSFR's script does the showing.
 *
 * The other rules (common password, identifier, names, birth date) are checked by the server
 * when the form is sent: without JavaScript, the server says everything.
 *
 * Mirrors moncompte/accounts/passwords.py: length in code points, a letter is any Unicode letter,
 * a digit any Unicode decimal digit. Only textContent, classList and attributes are written: no
 * HTML is ever built from what the person types, and the password is never stored or sent.
 */
(function () {
  "use strict";

  var VALID = "fr-message--valid";
  var PENDING = "fr-message--info";
  var ANNOUNCE_DELAY_MS = 800;

  function unicodePattern(source, fallback) {
    try {
      return new RegExp(source, "u");
    } catch (error) {
      return fallback; // Browsers without Unicode property escapes.
    }
  }

  var LETTER = unicodePattern("\\p{L}", /[A-Za-z\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u024F]/);
  var DIGIT = unicodePattern("\\p{Nd}", /[0-9]/);

  function codePoints(value) {
    // A surrogate pair is one character, as Python's len() counts it.
    return value.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, "_").length;
  }

  function checks(value, minLength) {
    return {
      length: codePoints(value) >= minLength,
      letter: LETTER.test(value),
      digit: DIGIT.test(value)
    };
  }

  function summaryText(items, state) {
    var missing = [];
    var met = 0;
    items.forEach(function (item) {
      if (state[item.getAttribute("data-rule")]) {
        met += 1;
      } else {
        missing.push(item.textContent.trim().toLowerCase());
      }
    });
    if (!missing.length) {
      return "Les " + items.length + " règles vérifiées pendant la saisie sont respectées ; " +
        "les autres le seront à l'envoi du formulaire.";
    }
    return met + " règle" + (met > 1 ? "s" : "") + " respectée" + (met > 1 ? "s" : "") +
      " sur " + items.length + ". Il manque : " + missing.join(", ") + ".";
  }

  function enhance(input) {
    if (input.hasAttribute("data-password-checks-ready")) {
      return; // The script may be included twice.
    }
    var list = document.getElementById(input.getAttribute("data-password-checks"));
    if (!list) {
      return;
    }
    input.setAttribute("data-password-checks-ready", "");
    var minLength = parseInt(input.getAttribute("data-min-length"), 10) || 12;
    var items = Array.prototype.filter.call(list.querySelectorAll("li[data-rule]"), function (item) {
      return ["length", "letter", "digit"].indexOf(item.getAttribute("data-rule")) !== -1;
    });
    var group = input.closest ? input.closest(".fr-password") : null;
    var summary = (group || list.parentNode).querySelector("[data-password-summary]");
    var toggle = group ? group.querySelector("[data-password-toggle]") : null;
    var timer = null;
    var lastAnnounced = "";

    if (toggle) {
      toggle.classList.remove("fr-hidden"); // "Afficher" needs JavaScript (DSFR's): hidden without it.
    }

    function announce(text) {
      if (!summary || text === lastAnnounced) {
        return;
      }
      lastAnnounced = text;
      summary.textContent = text;
    }

    // mode: "later" (typing, announced once it pauses), "now" (leaving the field), "silent".
    function update(mode) {
      var value = input.value;
      var state = checks(value, minLength);
      items.forEach(function (item) {
        var met = value.length > 0 && state[item.getAttribute("data-rule")];
        item.classList.remove(met ? PENDING : VALID);
        item.classList.add(met ? VALID : PENDING);
      });
      if (timer) {
        window.clearTimeout(timer);
        timer = null;
      }
      if (!value.length) {
        lastAnnounced = "";
        if (summary) {
          summary.textContent = "";
        }
        return;
      }
      var text = summaryText(items, state);
      if (mode === "now") {
        announce(text);
      } else if (mode === "later") {
        timer = window.setTimeout(function () {
          announce(text);
        }, ANNOUNCE_DELAY_MS);
      }
    }

    input.addEventListener("input", function () {
      update("later");
    });
    input.addEventListener("blur", function () {
      if (input.value.length) {
        update("now");
      }
    });
    // A value the browser restored or filled in before the script ran: marked, not announced.
    update("silent");
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("input[data-password-checks]"), enhance);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
