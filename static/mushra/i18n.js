// The listener interface's strings, translated by Django's JavaScript catalogue (djangojs
// domain, locale/<lang>/LC_MESSAGES/djangojs.po). The page loads the catalogue of its test's
// language (mushra:jsi18n) before these modules run; without it (or if it fails) English.
// Mark a string by calling gettext on a literal, so that `make messages` (djangojs) finds it.

export const gettext = window.gettext ?? ((msgid) => msgid);
export const pgettext = window.pgettext ?? ((context, msgid) => msgid);

// "%(name)s" placeholders, as in Python: fill("Sample %(n)s", {n: 3}) === "Sample 3".
export function fill(format, values = {}) {
  if (window.interpolate) return window.interpolate(format, values, true);
  return format.replace(/%\((\w+)\)s/g, (_, name) => String(values[name]));
}
