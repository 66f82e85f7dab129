/* A stand-in for a future libtubo.so.2: only tubo_version, reporting 2.0.0. */
unsigned tubo_version(void) { return 20000; }
const char *tubo_version_string(void) { return "2.0.0"; }
