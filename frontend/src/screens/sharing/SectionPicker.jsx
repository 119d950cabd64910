import { useState } from 'preact/hooks';
import { t } from '../../i18n/index.js';
import { ALL_SECTIONS } from '../../lib/sections.js';
import { Form } from '../../components/Form.jsx';

// Choose the sections to share with one practitioner: only those their profession may see
// (`allowed`, from the server's matrix), which are all a grant may hold.
export function SectionPicker({ who, allowed = ALL_SECTIONS, initial = [], onSave, onCancel }) {
  const offered = ALL_SECTIONS.filter((s) => allowed.includes(s));
  const [chosen, setChosen] = useState(new Set(initial));
  const toggle = (section) => {
    const next = new Set(chosen);
    if (next.has(section)) next.delete(section);
    else next.add(section);
    setChosen(next);
  };
  return (
    <Form
      onSubmit={(e) => {
        e.preventDefault();
        onSave(offered.filter((s) => chosen.has(s)));
      }}
    >
      <fieldset>
        <legend>{t('sharing.chooseSections', { who })}</legend>
        <p class="hint">{t('sharing.matrixHint')}</p>
        {offered.map((section) => (
          <label class="choice" key={section}>
            <input type="checkbox" name="section" value={section} checked={chosen.has(section)} onChange={() => toggle(section)} />
            {t(`section.${section}`)}
          </label>
        ))}
      </fieldset>
      <div class="actions">
        <button type="submit" disabled={chosen.size === 0}>
          {t('sharing.share')}
        </button>
        <button type="button" class="secondary" onClick={onCancel}>
          {t('common.cancel')}
        </button>
      </div>
    </Form>
  );
}
