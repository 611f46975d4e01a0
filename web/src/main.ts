// Entry point: zod's settings first (modules run in import order), global styles, the app.
import './lib/zod-setup.ts';
import '@xterm/xterm/css/xterm.css';
import './app.css';
import { mount } from 'svelte';
import App from './App.svelte';
import Dashboard from './components/workshop/Dashboard.svelte';

// One page, two faces: a workshop's instructor watches the room on /dashboard.
mount(location.pathname === '/dashboard' ? Dashboard : App, { target: document.getElementById('app')! });
