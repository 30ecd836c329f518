#include "tandem/base/json_writer.h"

#include <gtest/gtest.h>

#include <string>

namespace tandem {
namespace {

std::string Quoted(std::string_view text) {
  std::string out;
  AppendJsonString(out, text);
  return out;
}

TEST(JsonWriter, WritesNestedDocumentsWithCommasInPlace) {
  JsonWriter w;
  w.BeginObject();
  w.Key("id").Int(-42);
  w.Key("items").BeginArray();
  w.BeginObject().Key("a").Bool(true).Key("b").Null().EndObject();
  w.Int(7).String("x");
  w.BeginArray().EndArray();
  w.EndArray();
  w.Key("empty").BeginObject().EndObject();
  w.Key("last").Bool(false);
  w.EndObject();
  EXPECT_EQ(w.Take(),
            R"({"id":-42,"items":[{"a":true,"b":null},7,"x",[]],"empty":{},"last":false})");
  w.BeginArray().Int(1).EndArray();
  EXPECT_EQ(w.Take(), "[1]");
}

TEST(JsonWriter, EscapesWhatJsonRequires) {
  EXPECT_EQ(Quoted("plain"), R"("plain")");
  EXPECT_EQ(Quoted("a\"b\\c/d"), R"("a\"b\\c/d")");
  EXPECT_EQ(Quoted("\n\r\t\b\f"), R"("\n\r\t\b\f")");
  EXPECT_EQ(Quoted(std::string("\x01\x1f", 2)), R"("\u0001\u001f")");
  EXPECT_EQ(Quoted(std::string("a\0b", 3)), R"("a\u0000b")");
  EXPECT_EQ(Quoted("ab\ncd\"ef\x7f"), "\"ab\\ncd\\\"ef\x7f\"");  // runs between escapes kept
}

TEST(JsonWriter, KeepsUtf8AndReplacesWhatIsNotUtf8) {
  // Valid: 2-, 3- and 4-byte sequences, the highest code point.
  EXPECT_EQ(Quoted("Kuala Lumpur \xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xF4\x8F\xBF\xBF"),
            "\"Kuala Lumpur \xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xF4\x8F\xBF\xBF\"");
  const std::string bad = "\xEF\xBF\xBD";  // U+FFFD
  EXPECT_EQ(Quoted("\xFF"), "\"" + bad + "\"");                    // never a UTF-8 byte
  EXPECT_EQ(Quoted("a\xC3"), "\"a" + bad + "\"");                  // cut short
  EXPECT_EQ(Quoted("\xC0\xAF"), "\"" + bad + bad + "\"");          // overlong '/'
  EXPECT_EQ(Quoted("\xE0\x80\xAF"), "\"" + bad + bad + bad + "\"");  // overlong
  EXPECT_EQ(Quoted("\xED\xA0\x80"), "\"" + bad + bad + bad + "\"");  // a surrogate
  EXPECT_EQ(Quoted("\xF4\x90\x80\x80"), "\"" + bad + bad + bad + bad + "\"");  // past U+10FFFF
  EXPECT_EQ(Quoted("\xE2\x82x"), "\"" + bad + bad + "x\"");  // continuation missing
}

}  // namespace
}  // namespace tandem
