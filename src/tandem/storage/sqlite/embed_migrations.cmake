# Generates migrations.cc from migrations/NNNN_name.sql (run at build time by CMake).
file(GLOB files "${SRC}/migrations/*.sql")
list(SORT files)
set(body "")
foreach(f IN LISTS files)
  get_filename_component(name "${f}" NAME_WE)
  string(SUBSTRING "${name}" 0 4 version)
  string(REGEX REPLACE "^0+" "" version "${version}")
  file(READ "${f}" sql)
  string(APPEND body "    {${version}, \"${name}\", R\"tandem_sql(${sql})tandem_sql\"},\n")
endforeach()
file(WRITE "${OUT}.tmp"
"// Generated from migrations/*.sql by embed_migrations.cmake. Do not edit.\n"
"#include \"tandem/storage/sqlite/migrations.h\"\n\n"
"namespace tandem::storage::sqlite {\n\n"
"const std::vector<Migration>& Migrations() {\n"
"  static const std::vector<Migration> kMigrations{\n${body}  };\n"
"  return kMigrations;\n}\n\n}  // namespace tandem::storage::sqlite\n")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
