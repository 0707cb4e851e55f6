// "Copy" buttons next to the API examples (shown only where the browser offers the clipboard).
export function startCopyButtons(root) {
  if (!navigator.clipboard) return;
  for (const button of root.querySelectorAll("button.copy")) {
    const code = button.parentElement.querySelector("pre");
    if (!code) continue;
    const label = button.textContent;
    button.hidden = false;
    button.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(code.innerText.trim());
        button.textContent = button.dataset.copied || label;
        setTimeout(() => { button.textContent = label; }, 1500);
      } catch (err) {
        console.warn("copy refused", err);
      }
    });
  }
}
