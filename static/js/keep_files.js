// A form marked data-keep-files is sent in the background. When the server refuses it (a 400
// carrying the form with its messages), the messages replace the old ones and the files the user
// chose stay chosen: a browser cannot put a file back into a file input after a page reload, and
// a portrait and a voice sample are not things to make people find again. Nothing is kept on the
// server. Any other answer is shown as a normal submission would show it.
document.addEventListener("submit", async (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-keep-files")) return;
  event.preventDefault();
  const button = form.querySelector("button[type=submit]");
  if (button) button.disabled = true;
  let response;
  try {
    response = await fetch(form.action || window.location.href, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
    });
  } catch (error) {
    if (button) button.disabled = false;
    form.submit(); // the network failed: let the browser try and say what happened
    return;
  }
  if (response.status !== 400) {
    window.location.assign(response.url); // done (the redirect was followed) or another page
    return;
  }
  const page = new DOMParser().parseFromString(await response.text(), "text/html");
  const answer = page.querySelector("form[data-keep-files]");
  if (!answer) {
    form.submit(); // a refusal without the form: let the browser show it
    return;
  }
  showMessages(form, answer);
  if (button) button.disabled = false;
});

function showMessages(form, answer) {
  form.querySelectorAll(".errors, .error").forEach((element) => element.remove());
  const fields = form.querySelectorAll(".field");
  const answered = answer.querySelectorAll(".field");
  fields.forEach((field, index) => {
    const twin = answered[index];
    if (!twin) return;
    field.classList.toggle("has-error", twin.classList.contains("has-error"));
    twin.querySelectorAll(".error").forEach((message) => field.append(message.cloneNode(true)));
  });
  // Messages about the whole form (and about hidden fields) go first, as on the page.
  const general = [...answer.children].filter(
    (element) => element.matches(".errors, .error"),
  );
  general.reverse().forEach((message) => form.prepend(message.cloneNode(true)));
  const first = form.querySelector(".errors, .error");
  if (first) first.scrollIntoView({ block: "center" });
}
