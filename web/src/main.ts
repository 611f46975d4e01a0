// Entry point: zod's settings first (modules run in import order), global styles, the app.
import './lib/zod-setup.ts';
import './app.css';
import { mount } from 'svelte';
import App from './App.svelte';
import Dashboard from './components/workshop/Dashboard.svelte';

// One page, two faces: a workshop's instructor watches the room on /dashboard.
document.getElementById('boot')?.remove();
mount(location.pathname === '/dashboard' ? Dashboard : App, { target: document.getElementById('app')! });
// When the lab replaced the placeholder, for whoever times the page (test/e2e/first-load).
performance.mark('stepbox:mounted');
