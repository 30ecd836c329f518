// What a reader of a PDF file sees, for tests of documents/: its text through poppler's
// `pdftotext -layout` and its page count through `pdfinfo` (Debian's poppler-utils). With
// TANDEM_KEEP_PDF_DIR set, each file is also left there to be looked at.
#pragma once

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "testing/temp_dir.h"

namespace tandem::testing {

struct PdfContent {
  std::string text;  // UTF-8, pages separated by form feeds
  int pages = 0;
};

// The standard output of `command`.
inline std::string RunCommand(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return out;
  char buffer[4096];
  size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) out.append(buffer, n);
  ::pclose(pipe);
  return out;
}

inline PdfContent ReadPdf(const std::string& pdf, const std::string& name = "document.pdf") {
  TempDir dir("tandem-pdf");
  const std::string file = dir.File(name);
  {
    std::ofstream out(file, std::ios::binary);
    out.write(pdf.data(), static_cast<std::streamsize>(pdf.size()));
  }
  if (const char* keep = std::getenv("TANDEM_KEEP_PDF_DIR")) {
    std::filesystem::copy_file(file, std::filesystem::path(keep) / name,
                               std::filesystem::copy_options::overwrite_existing);
  }
  PdfContent content;
  content.text = RunCommand("/usr/bin/pdftotext -layout -enc UTF-8 '" + file + "' - 2>&1");
  const std::string info = RunCommand("/usr/bin/pdfinfo '" + file + "' 2>&1");
  const size_t pages = info.find("Pages:");
  if (pages != std::string::npos) content.pages = std::atoi(info.c_str() + pages + 6);
  return content;
}

// How often `needle` occurs in `haystack`.
inline int CountOf(std::string_view haystack, std::string_view needle) {
  int count = 0;
  for (size_t at = haystack.find(needle); at != std::string_view::npos;
       at = haystack.find(needle, at + needle.size())) {
    ++count;
  }
  return count;
}

}  // namespace tandem::testing
