// Passkeys: the server sends py_webauthn options as JSON; the browser answers; we send the answer back as JSON.
import { browserSupportsWebAuthn, startAuthentication, startRegistration } from '@simplewebauthn/browser';

export function passkeysSupported() {
  return browserSupportsWebAuthn();
}

export async function createPasskey(optionsJson) {
  const credential = await startRegistration({ optionsJSON: JSON.parse(optionsJson) });
  return JSON.stringify(credential);
}

export async function usePasskey(optionsJson) {
  const assertion = await startAuthentication({ optionsJSON: JSON.parse(optionsJson) });
  return JSON.stringify(assertion);
}
