// Entry point: zod's settings first (modules run in import order), global styles, the app.
import './lib/zod-setup.ts';
import '@xterm/xterm/css/xterm.css';
import './app.css';
import { mount } from 'svelte';
import App from './App.svelte';

mount(App, { target: document.getElementById('app')! });
