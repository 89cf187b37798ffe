// On a phone a table's rows are shown as cards (app.css); each cell then says which column
// it is, from the table's own headings, so nothing needs writing twice in the templates.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("table").forEach((table) => {
    const head = table.tHead && table.tHead.rows[0];
    if (!head) return;
    const names = [...head.cells].map((cell) => cell.textContent.trim());
    [...table.tBodies].forEach((body) => [...body.rows].forEach((row) => {
      let column = 0;
      [...row.cells].forEach((cell) => {
        if (!cell.dataset.label && names[column]) cell.dataset.label = names[column];
        column += cell.colSpan || 1;
      });
    }));
  });
});
