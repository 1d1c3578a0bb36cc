// The language switcher sends its form as soon as a language is chosen. A file, not an
// onchange="" attribute: the Content-Security-Policy runs no inline script.
"use strict";
{
  const select = document.getElementById("language-switcher-select");
  if (select) {
    select.addEventListener("change", () => select.form.submit());
  }
}
