export const ME = `query Me { me { id role displayName profession isRegulator } }`;
export const LOGOUT = `mutation Logout { logout }`;
