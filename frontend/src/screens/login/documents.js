const ME_FIELDS = 'me { id role displayName profession isRegulator }';

export const START_LOGIN = `mutation StartLogin($identifier: String!, $password: String!) {
  startLogin(identifier: $identifier, password: $password) { attemptToken factors codeSentTo }
}`;

export const COMPLETE_LOGIN = `mutation CompleteLogin($attemptToken: String!, $code: String!) {
  completeLogin(attemptToken: $attemptToken, code: $code) { ${ME_FIELDS} }
}`;

export const BEGIN_PASSKEY_LOGIN = `mutation BeginPasskeyLogin($attemptToken: String) {
  beginPasskeyLogin(attemptToken: $attemptToken) { optionsJson }
}`;

export const FINISH_PASSKEY_LOGIN = `mutation FinishPasskeyLogin($credentialJson: String!, $attemptToken: String) {
  finishPasskeyLogin(credentialJson: $credentialJson, attemptToken: $attemptToken) { ${ME_FIELDS} }
}`;
