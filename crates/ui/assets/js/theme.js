// Sets the theme before the first paint (a classic script, run in <head>):
// the saved choice, else the system's preference.
(function () {
  var saved = null;
  try { saved = localStorage.getItem('argus.theme'); } catch (e) { /* storage off */ }
  var dark = saved ? saved === 'dark' : window.matchMedia('(prefers-color-scheme: dark)').matches;
  document.documentElement.dataset.theme = dark ? 'dark' : 'light';
})();
