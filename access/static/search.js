// The search results' "select all on this page" box: ticks or clears every row's box.
document.addEventListener("DOMContentLoaded", () => {
  const all = document.querySelector("[data-select-all]");
  if (!all) return;
  const rows = () => document.querySelectorAll('input[type="checkbox"][name="record"]');
  all.addEventListener("change", () => rows().forEach((box) => { box.checked = all.checked; }));
  rows().forEach((box) => box.addEventListener("change", () => {
    const boxes = [...rows()];
    all.checked = boxes.every((b) => b.checked);
    all.indeterminate = !all.checked && boxes.some((b) => b.checked);
  }));
});
