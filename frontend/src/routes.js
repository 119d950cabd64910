// Every screen, by path. Paths are words, never identifiers or medical data.
import { Login } from './screens/login/Login.jsx';
import { Activate } from './screens/activate/Activate.jsx';
import { ResetPassword } from './screens/reset/ResetPassword.jsx';
import { Record } from './screens/record/Record.jsx';
import { Sharing } from './screens/sharing/Sharing.jsx';
import { History } from './screens/history/History.jsx';
import { Security } from './screens/security/Security.jsx';
import { Contacts } from './screens/contacts/Contacts.jsx';
import { Upload } from './screens/documents/Upload.jsx';
import { EmergencyProfile } from './screens/emergency/EmergencyProfile.jsx';
import { Lifecycle } from './screens/lifecycle/Lifecycle.jsx';
import { Practitioner } from './screens/practitioner/Practitioner.jsx';

export const routes = {
  '/connexion': { component: Login, title: 'login.title' },
  '/activation': { component: Activate, title: 'activate.title' },
  '/mot-de-passe-oublie': { component: ResetPassword, title: 'reset.title' },
  '/dossier': { component: Record, title: 'record.title' },
  '/partage': { component: Sharing, title: 'sharing.title' },
  '/historique': { component: History, title: 'history.title' },
  '/securite': { component: Security, title: 'security.title' },
  '/securite/coordonnees': { component: Contacts, title: 'contacts.title' },
  '/documents': { component: Upload, title: 'upload.title' },
  '/urgence': { component: EmergencyProfile, title: 'emergency.title' },
  '/mon-compte': { component: Lifecycle, title: 'lifecycle.title' },
  '/praticien': { component: Practitioner, title: 'pro.title' },
};
