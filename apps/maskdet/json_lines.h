// JSON Lines (jsonlines.org): one JSON document per line, the format of the logs and detection
// lists the programs append to. apps/eval's JsonWriter indents its output for people; this
// folds such a document onto one line.
#pragma once
#include <string>

namespace maskdet::app {

// `document` (JSON, possibly indented over several lines) on one line, without the trailing
// newline. Safe because a JSON string never holds a raw newline: every newline in the text is
// layout, and so are the spaces after it.
std::string one_line(const std::string& document);

}  // namespace maskdet::app
