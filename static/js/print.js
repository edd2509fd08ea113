// Buttons marked data-print print the page (its print styles keep only the slip).
document.querySelectorAll("[data-print]").forEach((button) => {
  button.addEventListener("click", () => window.print());
});
