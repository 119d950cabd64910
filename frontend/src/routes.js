// Every screen, by path. Paths are words, never identifiers or medical data.
import { Login } from './screens/login/Login.jsx';
import { Activate } from './screens/activate/Activate.jsx';
import { ResetPassword } from './screens/reset/ResetPassword.jsx';

export const routes = {
  '/connexion': { component: Login, title: 'login.title' },
  '/activation': { component: Activate, title: 'activate.title' },
  '/mot-de-passe-oublie': { component: ResetPassword, title: 'reset.title' },
};
