# Generates a .cc holding openapi.json as a string (run at build time by CMake).
file(READ "${IN}" doc)
file(WRITE "${OUT}.tmp"
"// Generated from openapi.json by embed_openapi.cmake. Do not edit.\n"
"#include \"tandem/api/api.h\"\n\n"
"namespace tandem::api {\n\n"
"const std::string& OpenApiDocument() {\n"
"  static const std::string kDocument = R\"tandem_openapi(${doc})tandem_openapi\";\n"
"  return kDocument;\n}\n\n}  // namespace tandem::api\n")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
