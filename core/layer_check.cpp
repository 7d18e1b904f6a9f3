// Linked with one whole layer of the core and the layers below it only (see
// core/meson.build): it exists so that a call from a layer into one above it
// fails to link. It is never run.
int main() {
  return 0;
}
