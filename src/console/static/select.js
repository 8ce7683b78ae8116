// Dead letters: one checkbox that selects every row's checkbox of the same name.
export function selectAll(doc) {
  for (const box of doc.querySelectorAll('[data-select-all]')) {
    const name = box.dataset.selectAll;
    box.addEventListener('change', () => {
      for (const c of box.form.querySelectorAll(`input[type=checkbox][name="${name}"]`)) c.checked = box.checked;
    });
  }
}
