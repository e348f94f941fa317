// FINANCES: « Payer la sélection » says what the ticked invoices come to. Without this
// script the form works the same; the checkout shows the total before anything is paid.
(function () {
  "use strict";
  var form = document.getElementById("selection");
  if (!form) {
    return;
  }
  var button = form.querySelector("button[type=submit]");
  var label = button.textContent;
  var boxes = document.querySelectorAll('input[form="selection"][data-due-cents]');
  var thousands = new Intl.NumberFormat("fr-FR");

  // Integer cents to « 1 234,50 € », without a float.
  function money(cents) {
    var rest = String(cents % 100);
    var euros = thousands.format((cents - (cents % 100)) / 100);
    return euros + "," + (rest.length < 2 ? "0" + rest : rest) + "\u00a0€";
  }

  function update() {
    var cents = 0;
    var count = 0;
    boxes.forEach(function (box) {
      if (box.checked) {
        cents += parseInt(box.getAttribute("data-due-cents"), 10);
        count += 1;
      }
    });
    button.textContent = count ? label + " : " + money(cents) : label;
  }

  boxes.forEach(function (box) {
    box.addEventListener("change", update);
  });
  update();
})();
