import { describe, expect, it } from 'vitest';
import fr from './fr.js';
import en from './en.js';

describe('the words a patient reads along their record', () => {
  it('says the activation code comes by e-mail or text message, as the service sends it, not by post', () => {
    expect(fr['activate.activationCodeHint']).toBe('Le code remis par votre professionnel de santé, ou reçu par e-mail ou par SMS.');
    expect(en['activate.activationCodeHint']).toBe('The code your health professional gave you, or that you received by e-mail or text message.');
    expect(fr['activate.intro']).not.toMatch(/Assurance maladie, qui vous a remis/);
  });

  it('speaks of the treating physician without taking them for a man', () => {
    expect(fr['sharing.isTreating']).toBe('C\'est votre médecin traitant : toutes les rubriques lui sont visibles.');
    expect(fr['sharing.clearTreating']).toBe('Ne plus désigner ce médecin');
  });
});
