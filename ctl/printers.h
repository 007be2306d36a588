// Printing objects as kubectl does: the server's Table laid out with Go's
// tabwriter settings (minimum cell width 6, padding 3, the last column not
// padded), `-o name`, `-o json|yaml`, and `-o jsonpath=` templates.
//
// Pure functions over JSON; tests feed them fixed Tables.
#pragma once

#include <string>
#include <vector>

#include "api/json.h"
#include "base/result.h"

namespace skiff::ctl {

using api::Json;

struct TablePrintOptions {
  bool wide = false;  // include priority > 0 columns
  bool noHeaders = false;
  bool showLabels = false;     // a LABELS column from each row's object
  bool withNamespace = false;  // a NAMESPACE column first (-A)
  std::string kindPrefix;      // "pod" makes names "pod/x" (several types at once)
};

// The cells of `table` (a meta.k8s.io/v1 Table), header first unless noHeaders.
std::vector<std::vector<std::string>> tableCells(const Json& table, const TablePrintOptions& o);

// Lays rows out as Go's text/tabwriter with kubectl's settings; every line ends
// in a newline.
std::string tabwrite(const std::vector<std::vector<std::string>>& rows);
// The display width of each column but the last, for aligning later rows (-w).
std::vector<size_t> columnWidths(const std::vector<std::vector<std::string>>& rows);
std::string formatRow(const std::vector<std::string>& row, const std::vector<size_t>& widths);

// kubectl's JSONPath subset: text, {.a.b}, {.items[*].x}, {.a[0]}, {['k.x']},
// {..name}, {.list[?(@.type=="Ready")].status}, {range X}...{end}, {"\n"}, {@}.
// kBadRequest for a malformed template.
Result<std::string> jsonPath(const std::string& tmpl, const Json& data);

// `-o json`: kubectl's 4-space indentation and sorted keys, with newline.
std::string toJsonText(const Json& value);

// kubectl's singular lowercase type word for `-o name` and messages:
// "Service", "apps" -> "service.apps"; core -> "service".
std::string typeWord(const std::string& kind, const std::string& group);

}  // namespace skiff::ctl

namespace skiff::ctl {
// Go's text/tabwriter over `text` (cells end in '\t', lines in '\n'), with its
// column blocks: consecutive lines sharing a column align, a line with fewer
// cells ends the block. `describe` uses minwidth 0, padding 2.
std::string goTabwriter(const std::string& text, size_t minwidth, size_t padding);
}  // namespace skiff::ctl
