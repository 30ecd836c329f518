#include "tandem/base/file_type.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "tandem/base/limits.h"

namespace tandem {
namespace {

using namespace std::string_literals;

// CRC-32 of PNG and zlib, written here again so that a wrong one in file_type.cc is caught.
uint32_t Crc(std::string_view data) {
  uint32_t c = 0xFFFFFFFFu;
  for (unsigned char ch : data) {
    c ^= ch;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
  }
  return ~c;
}

std::string Be32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}

std::string Chunk(std::string type, std::string data) {
  return Be32(static_cast<uint32_t>(data.size())) + type + data + Be32(Crc(type + data));
}

const std::string kPngSignature = "\x89PNG\r\n\x1a\n"s;
const std::string kIhdr1x1 = Chunk("IHDR", "\0\0\0\1\0\0\0\1\x08\0\0\0\0"s);  // 1x1, 8-bit grey
// zlib of the one row: filter 0, grey 0x80.
const std::string kIdat = Chunk("IDAT", "\x78\x9c\x63\x68\x00\x00\x00\x82\x00\x81"s);
const std::string kIend = Chunk("IEND", "");

// A 1x1 grey PNG as Python's zlib wrote it (its CRCs were not computed by this test).
const std::string kPng =
    "\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\0\0\x01\0\0\0\x01\x08\0\0\0\0\x3a\x7e\x9b\x55"
    "\0\0\0\x0aIDAT\x78\x9c\x63\x68\x00\x00\x00\x82\x00\x81\x77\xcd\x72\xb6"
    "\0\0\0\0IEND\xae\x42\x60\x82"s;

// A 1x1 grey baseline JPEG: one 8x8 block whose DC difference is 0 and then end-of-block, with
// one-code Huffman tables (poppler decodes it to grey 128 without a warning).
const std::string kJpeg = "\xFF\xD8"s                                                // SOI
                          + "\xFF\xDB\x00\x43\x00"s + std::string(64, '\x01')        // DQT
                          + "\xFF\xC0\x00\x0B\x08\x00\x01\x00\x01\x01\x01\x11\x00"s  // SOF0 1x1
                          + "\xFF\xC4\x00\x14\x00\x01"s + std::string(16, '\0')      // DHT DC
                          + "\xFF\xC4\x00\x14\x10\x01"s + std::string(16, '\0')      // DHT AC
                          + "\xFF\xDA\x00\x08\x01\x01\x00\x00\x3F\x00"s              // SOS
                          + "\x3F"s                                                  // "00" + pad
                          + "\xFF\xD9"s;                                             // EOI

// A one-page PDF with a correct cross-reference table; `eol` ends its lines.
std::string Pdf(const std::string& eol = "\n", const std::string& after_eof = "\n") {
  std::vector<std::string> objects = {"<< /Type /Catalog /Pages 2 0 R >>",
                                      "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                                      "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>"};
  std::string pdf = "%PDF-1.4" + eol + "%\xE2\xE3\xCF\xD3" + eol;
  std::vector<size_t> offsets;
  for (size_t i = 0; i < objects.size(); ++i) {
    offsets.push_back(pdf.size());
    pdf += std::to_string(i + 1) + " 0 obj" + eol + objects[i] + eol + "endobj" + eol;
  }
  size_t xref = pdf.size();
  pdf += "xref" + eol + "0 4" + eol + "0000000000 65535 f \n";
  for (size_t offset : offsets) {
    std::string digits = std::to_string(offset);
    pdf += std::string(10 - digits.size(), '0') + digits + " 00000 n \n";
  }
  pdf += "trailer" + eol + "<< /Size 4 /Root 1 0 R >>" + eol + "startxref" + eol +
         std::to_string(xref) + eol + "%%EOF" + after_eof;
  return pdf;
}

Code CodeOf(std::string_view bytes) {
  Result<FileType> type = DetectProofFile(bytes);
  return type.ok() ? Code::kOk : type.status().code();
}

TEST(Crc, MatchesTheStandardCheckValue) { EXPECT_EQ(Crc("123456789"), 0xCBF43926u); }

TEST(DetectProofFile, RecognisesAMinimalPdfJpegAndPng) {
  ASSERT_EQ(Chunk("IHDR", "\0\0\0\1\0\0\0\1\x08\0\0\0\0"s) + kIdat + kIend, kPng.substr(8));
  Result<FileType> pdf = DetectProofFile(Pdf());
  ASSERT_TRUE(pdf.ok()) << pdf.status().message();
  EXPECT_EQ(*pdf, FileType::kPdf);
  Result<FileType> jpeg = DetectProofFile(kJpeg);
  ASSERT_TRUE(jpeg.ok()) << jpeg.status().message();
  EXPECT_EQ(*jpeg, FileType::kJpeg);
  Result<FileType> png = DetectProofFile(kPng);
  ASSERT_TRUE(png.ok()) << png.status().message();
  EXPECT_EQ(*png, FileType::kPng);
}

TEST(DetectProofFile, AcceptsCommonVariationsOfRealFiles) {
  EXPECT_EQ(CodeOf(Pdf("\r\n", "\r\n")), Code::kOk);
  EXPECT_EQ(CodeOf(Pdf("\r", "")), Code::kOk);
  EXPECT_EQ(CodeOf(Pdf("\n", "\n" + std::string(1000, '\0'))), Code::kOk);  // padded
  // A PDF 1.5 whose startxref leads to a cross-reference stream object.
  std::string stream_xref = "%PDF-1.5\n1 0 obj\n<< /Type /Catalog >>\nendobj\n";
  size_t at = stream_xref.size();
  stream_xref += "7 0 obj\n<< /Type /XRef /Size 8 >>\nstream\nendstream\nendobj\nstartxref\n" +
                 std::to_string(at) + "\n%%EOF\n";
  EXPECT_EQ(CodeOf(stream_xref), Code::kOk);
  // Phones append data after a JPEG's end marker; restart markers, stuffed and fill bytes.
  EXPECT_EQ(CodeOf(kJpeg + "SEFT trailer from a phone"), Code::kOk);
  std::string scan = kJpeg;
  scan.insert(scan.size() - 2, "\xFF\x00\xFF\xD0\x12\xFF\xFF\xD1"s);
  EXPECT_EQ(CodeOf(scan), Code::kOk);
  EXPECT_EQ(CodeOf(kPngSignature + kIhdr1x1 + Chunk("tEXt", "Comment\0paid"s) + kIdat +
                   Chunk("IDAT", "") + kIend),
            Code::kOk);
}

TEST(DetectProofFile, RefusesAnEmptyFile) {
  Result<FileType> r = DetectProofFile("");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kEmptyFile);
  EXPECT_EQ(CodeName(r.status().code()), "empty_file");
}

TEST(DetectProofFile, RefusesFilesDisguisedByTheirName) {
  struct Case {
    std::string bytes;
    std::string message;
  };
  std::vector<Case> cases = {
      {"MZ\x90\x00\x03\x00\x00\x00\x04\x00"s,
       "not a PDF, JPEG or PNG file (it looks like a Windows program)"},
      {"\x7f"
       "ELF\x02\x01\x01"s,
       "not a PDF, JPEG or PNG file (it looks like a Linux program)"},
      {"<!DOCTYPE html><html><body>paid</body></html>",
       "not a PDF, JPEG or PNG file (it looks like an HTML page)"},
      {"\xEF\xBB\xBF\n <HTML>", "not a PDF, JPEG or PNG file (it looks like an HTML page)"},
      {"<svg xmlns='http://www.w3.org/2000/svg'/>",
       "not a PDF, JPEG or PNG file (it looks like an XML or SVG file)"},
      {"PK\x03\x04\x14\x00"s,
       "not a PDF, JPEG or PNG file (it looks like a ZIP archive or Office document)"},
      {"GIF89a\x01\x00\x01\x00"s, "not a PDF, JPEG or PNG file (it looks like a GIF image)"},
      {"\0\0\0\x18"
       "ftypheic\0\0\0\0"s,
       "not a PDF, JPEG or PNG file (it looks like a HEIC photo)"},
      {"RIFF\x10\0\0\0WEBPVP8 "s, "not a PDF, JPEG or PNG file (it looks like a WebP image)"},
      {"Payment reference 12345, RM 150.00\n",
       "not a PDF, JPEG or PNG file (it looks like a text file)"},
      {"\x01\x02\x03\x04"s, "not a PDF, JPEG or PNG file"},
      // Near misses of the magic numbers.
      {"%PDF 1.4\n%%EOF", "not a PDF, JPEG or PNG file (it looks like a text file)"},
      {"%PDF-x.y\nstartxref\n0\n%%EOF", "not a PDF, JPEG or PNG file (it looks like a text file)"},
      {" " + Pdf(), "not a PDF, JPEG or PNG file"},  // binary bytes in its second line
      {"Reçu de paiement\n", "not a PDF, JPEG or PNG file (it looks like a text file)"},
      {"\x89PNG\r\n\x1a"s, "not a PDF, JPEG or PNG file"},
      {"\x89PNG\n\x1a\n"s + kPng.substr(8), "not a PDF, JPEG or PNG file"},
      {"\xFF\xD8\xFE\x00"s, "not a PDF, JPEG or PNG file"},
      {"\xFF\xD8"s, "not a PDF, JPEG or PNG file"},
  };
  for (const Case& c : cases) {
    Result<FileType> r = DetectProofFile(c.bytes);
    ASSERT_FALSE(r.ok()) << c.message;
    EXPECT_EQ(r.status().code(), Code::kUnsupportedFileType) << c.message;
    EXPECT_EQ(r.status().message(), c.message);
  }
}

TEST(DetectProofFile, RefusesAPngThatCarriesAnotherFileAfterItsEnd) {
  Result<FileType> r = DetectProofFile(kPng + "PK\x03\x04"s);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kUnsupportedFileType);
  EXPECT_EQ(r.status().message(), "the PNG carries other data after its end");
}

TEST(DetectProofFile, RefusesEveryTruncationOfAPng) {
  for (size_t n = 8; n < kPng.size(); ++n) {
    EXPECT_EQ(CodeOf(kPng.substr(0, n)), Code::kDamagedFile) << n << " bytes";
  }
  EXPECT_EQ(DetectProofFile(kPng.substr(0, kPng.size() - 12)).status().message(),
            "the PNG is cut short before its IEND chunk");
}

TEST(DetectProofFile, RefusesAPngWithAnyByteChanged) {
  // Every byte past the signature is a length, a type, data or a CRC: a change breaks the walk or
  // a checksum.
  for (size_t i = 8; i < kPng.size(); ++i) {
    std::string bad = kPng;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    EXPECT_NE(CodeOf(bad), Code::kOk) << "byte " << i;
  }
  std::string bad_crc = kPng;
  bad_crc[8 + 25 + 8] ^= 0x40;  // in IDAT's data
  EXPECT_EQ(DetectProofFile(bad_crc).status().message(), "the PNG's IDAT chunk fails its checksum");
}

TEST(DetectProofFile, RefusesAPngWithBrokenStructure) {
  auto message = [](const std::string& bytes) { return DetectProofFile(bytes).status().message(); };
  EXPECT_EQ(message(kPngSignature + kIdat + kIhdr1x1 + kIend), "the PNG does not start with IHDR");
  EXPECT_EQ(message(kPngSignature + kIhdr1x1 + kIend), "the PNG has no image data");
  EXPECT_EQ(message(kPngSignature + kIhdr1x1 + kIdat + kIhdr1x1 + kIend),
            "the PNG has a second IHDR chunk");
  EXPECT_EQ(message(kPngSignature + Chunk("IHDR", "\0\0\0\0\0\0\0\1\x08\0\0\0\0"s) + kIdat + kIend),
            "the PNG's width or height is out of range");
  EXPECT_EQ(message(kPngSignature + kIhdr1x1 + Chunk("ID4T", "x") + kIdat + kIend),
            "the PNG has a chunk with a malformed type at byte 33");
  // A length past the end (here 0x7FFFFFFF and 2^32 - 1).
  EXPECT_EQ(message(kPngSignature + kIhdr1x1 + "\x7F\xFF\xFF\xFFIDAT"s + std::string(20, 'x')),
            "the PNG is cut short inside its IDAT chunk");
  EXPECT_EQ(CodeOf(kPngSignature + kIhdr1x1 + "\xFF\xFF\xFF\xFFIDAT"s + std::string(20, 'x')),
            Code::kDamagedFile);
}

TEST(DetectProofFile, RefusesEveryTruncationOfAJpeg) {
  for (size_t n = 3; n < kJpeg.size(); ++n) {
    EXPECT_EQ(CodeOf(kJpeg.substr(0, n)), Code::kDamagedFile) << n << " bytes";
  }
  EXPECT_EQ(DetectProofFile(kJpeg.substr(0, kJpeg.size() - 2)).status().message(),
            "the JPEG is cut short inside its image data");
  EXPECT_EQ(DetectProofFile(kJpeg.substr(0, 50)).status().message(),
            "the JPEG is cut short inside a segment");
}

TEST(DetectProofFile, RefusesAJpegWithBrokenStructure) {
  auto message = [](const std::string& bytes) { return DetectProofFile(bytes).status().message(); };
  const std::string soi = "\xFF\xD8"s;
  const std::string eoi = "\xFF\xD9"s;
  std::string sof = kJpeg.substr(71, 13);
  ASSERT_EQ(sof.substr(0, 2), "\xFF\xC0"s);
  std::string sos_and_data = kJpeg.substr(kJpeg.size() - 13, 11);
  ASSERT_EQ(sos_and_data.substr(0, 2), "\xFF\xDA"s);
  EXPECT_EQ(message(soi + sof + eoi), "the JPEG has no image data");
  EXPECT_EQ(message(soi + sos_and_data + eoi), "the JPEG has a scan before its frame header");
  EXPECT_EQ(message(soi + sof + "\x00\x00"s + sos_and_data + eoi),
            "the JPEG has no segment marker at byte 15");
  EXPECT_EQ(message(soi + "\xFF\xE0\x00\x01"s + sof + sos_and_data + eoi),
            "the JPEG has a segment of impossible length");
  EXPECT_EQ(message(soi + "\xFF\xD8"s + sof + sos_and_data + eoi),
            "the JPEG has a misplaced marker at byte 3");
  EXPECT_EQ(message(soi + "\xFF\xE1\xFF\xF0"s + std::string(100, 'x')),
            "the JPEG is cut short inside a segment");
}

TEST(DetectProofFile, RefusesEveryTruncationOfAPdf) {
  const std::string pdf = Pdf();  // ends "%%EOF\n": only the last byte may go
  for (size_t n = 8; n + 1 < pdf.size(); ++n) {
    EXPECT_EQ(CodeOf(pdf.substr(0, n)), Code::kDamagedFile) << n << " bytes";
  }
  EXPECT_EQ(CodeOf(pdf.substr(0, pdf.size() - 1)), Code::kOk);
  EXPECT_EQ(DetectProofFile(pdf.substr(0, pdf.size() - 10)).status().message(),
            "the PDF is cut short: no %%EOF in its last 1 KiB");
}

TEST(DetectProofFile, RefusesAPdfWhoseEndMarkerIsNotNearItsEnd) {
  EXPECT_EQ(CodeOf(Pdf("\n", "\n" + std::string(1018, ' '))),
            Code::kOk);  // %%EOF 1024 from the end
  EXPECT_EQ(CodeOf(Pdf("\n", "\n" + std::string(1019, ' '))), Code::kDamagedFile);
}

TEST(DetectProofFile, RefusesTextThatOnlyStartsLikeAPdf) {
  auto message = [](const std::string& bytes) { return DetectProofFile(bytes).status().message(); };
  EXPECT_EQ(message("%PDF-1.4\nThis is not a PDF at all.\n"),
            "the PDF is cut short: no %%EOF in its last 1 KiB");
  EXPECT_EQ(message("%PDF-1.4\nhello\n%%EOF\n"), "the PDF has no startxref before %%EOF");
  EXPECT_EQ(message("%PDF-1.4\nhello\nstartxref\n%%EOF\n"),
            "the PDF's startxref is not followed by an offset");
  EXPECT_EQ(message("%PDF-1.4\nhello\nstartxref\n9 junk\n%%EOF\n"),
            "the PDF's startxref is not followed by an offset");
  EXPECT_EQ(message("%PDF-1.4\nhello\nstartxref\n999\n%%EOF\n"),
            "the PDF's startxref points past its end");
  EXPECT_EQ(message("%PDF-1.4\nhello\nstartxref\n9\n%%EOF\n"),
            "the PDF's startxref points at no cross-reference");
  EXPECT_EQ(message("%PDF-1.4\n12 x obj\nstartxref\n9\n%%EOF\n"),
            "the PDF's startxref points at no cross-reference");
  // A real PDF's offsets moved by a byte inserted before its cross-reference.
  std::string shifted = Pdf();
  shifted.insert(shifted.find("xref"), " ");
  EXPECT_EQ(CodeOf(shifted), Code::kDamagedFile);
}

TEST(DetectProofFile, AcceptsTheLimitAndRefusesOneByteMore) {
  std::string at_limit = kJpeg + std::string(kProofFileBytesMax - kJpeg.size(), '\0');
  EXPECT_EQ(CodeOf(at_limit), Code::kOk);
  at_limit.push_back('\0');
  Result<FileType> r = DetectProofFile(at_limit);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kFileTooLarge);
  EXPECT_EQ(r.status().message(),
            "the file has 10485761 bytes; at most 10485760 (10 MiB) are accepted");
  static_assert(kProofFileBytesMax == 10 * 1024 * 1024);
}

TEST(DetectProofFile, GivesTheMimeTypeAndExtension) {
  EXPECT_EQ(MimeType(FileType::kPdf), "application/pdf");
  EXPECT_EQ(MimeType(FileType::kJpeg), "image/jpeg");
  EXPECT_EQ(MimeType(FileType::kPng), "image/png");
  EXPECT_EQ(Extension(FileType::kPdf), "pdf");
  EXPECT_EQ(Extension(FileType::kJpeg), "jpg");
  EXPECT_EQ(Extension(FileType::kPng), "png");
}

}  // namespace
}  // namespace tandem
