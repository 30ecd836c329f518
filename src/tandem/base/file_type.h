// What an uploaded payment proof is, judged by its content and never by its name: a PDF, a JPEG or
// a PNG whose structure is whole (a PDF's end marker and cross-reference, a PNG's chunks with
// their checksums up to IEND, a JPEG's segments up to its end marker). A file that only starts
// like one of them, or was cut short, is refused.
//
// Pure functions; safe from any thread.
#pragma once

#include <string_view>

#include "tandem/base/result.h"

namespace tandem {

enum class FileType { kPdf, kJpeg, kPng };

// The type of a payment proof of `bytes`. Errors, each with a message saying what is wrong:
//   kFileTooLarge          more than kProofFileBytesMax (base/limits.h) bytes;
//   kEmptyFile             no bytes;
//   kUnsupportedFileType   not a PDF, JPEG or PNG (an .exe or a web page renamed .pdf, a GIF),
//                          or a PNG with data after its end;
//   kDamagedFile           starts like one of them but is cut short or broken: a PDF without
//                          %%EOF in its last 1 KiB or whose startxref points nowhere, a PNG whose
//                          chunks do not reach IEND with right lengths and CRCs, a JPEG whose
//                          segments do not reach its end marker (FFD9).
// A JPEG may carry data after its end marker (phones append some); a PDF after %%EOF (up to 1 KiB).
Result<FileType> DetectProofFile(std::string_view bytes);

// "application/pdf", "image/jpeg", "image/png".
std::string_view MimeType(FileType type);
// The file name extension without its dot: "pdf", "jpg", "png".
std::string_view Extension(FileType type);

}  // namespace tandem
