// The block panel's subsidies section (blockpanel.js calls section(code, host) after the panel is drawn):
// placeholder until the feature is built. Returns an element to append, or null for nothing.
export async function section() {
  return null;
}
