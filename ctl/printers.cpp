#include "ctl/printers.h"

#include <algorithm>
#include <cstring>
#include <functional>

namespace skiff::ctl {
namespace {

size_t displayWidth(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string cellText(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "<none>";
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (d == static_cast<long long>(d)) return std::to_string(static_cast<long long>(d));
  }
  return v.dump();
}

std::string labelsText(const Json& obj) {
  const Json* labels = nullptr;
  if (obj.is_object() && obj.contains("metadata") && obj["metadata"].contains("labels"))
    labels = &obj["metadata"]["labels"];
  if (!labels || !labels->is_object() || labels->empty()) return "<none>";
  std::string out;
  for (auto it = labels->begin(); it != labels->end(); ++it) {
    if (!out.empty()) out += ",";
    out += it.key() + "=" + cellText(*it);
  }
  return out;
}

}  // namespace

std::vector<std::vector<std::string>> tableCells(const Json& table, const TablePrintOptions& o) {
  std::vector<std::vector<std::string>> out;
  std::vector<size_t> shown;
  std::vector<std::string> header;
  int nameCol = -1;
  const Json& cols =
      table.contains("columnDefinitions") ? table["columnDefinitions"] : Json::array();
  for (size_t i = 0; i < cols.size(); ++i) {
    int priority = cols[i].value("priority", 0);
    if (priority > 0 && !o.wide) continue;
    if (nameCol < 0 &&
        (cols[i].value("format", "") == "name" || cols[i].value("name", "") == "Name"))
      nameCol = static_cast<int>(shown.size());
    shown.push_back(i);
    header.push_back(upper(cols[i].value("name", "")));
  }
  if (o.withNamespace) header.insert(header.begin(), "NAMESPACE");
  if (o.showLabels) header.push_back("LABELS");
  if (!o.noHeaders) out.push_back(header);
  if (!table.contains("rows") || !table["rows"].is_array()) return out;
  for (const auto& row : table["rows"]) {
    std::vector<std::string> cells;
    const Json& rc = row.contains("cells") ? row["cells"] : Json::array();
    for (size_t k = 0; k < shown.size(); ++k) {
      size_t i = shown[k];
      std::string text = i < rc.size() ? cellText(rc[i]) : "";
      if (static_cast<int>(k) == nameCol && !o.kindPrefix.empty()) text = o.kindPrefix + "/" + text;
      cells.push_back(text);
    }
    const Json& obj = row.contains("object") ? row["object"] : Json::object();
    if (o.withNamespace) {
      std::string ns;
      if (obj.is_object() && obj.contains("metadata")) ns = obj["metadata"].value("namespace", "");
      cells.insert(cells.begin(), ns);
    }
    if (o.showLabels) cells.push_back(labelsText(obj));
    out.push_back(std::move(cells));
  }
  return out;
}

std::vector<size_t> columnWidths(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& r : rows) {
    if (r.size() > widths.size() + 1) widths.resize(r.size() - 1, 0);
    for (size_t i = 0; i + 1 < r.size(); ++i) widths[i] = std::max(widths[i], displayWidth(r[i]));
  }
  for (auto& w : widths) w = std::max<size_t>(w + 3, 6);
  return widths;
}

std::string formatRow(const std::vector<std::string>& row, const std::vector<size_t>& widths) {
  std::string line;
  for (size_t i = 0; i < row.size(); ++i) {
    line += row[i];
    if (i + 1 < row.size()) {
      size_t w = i < widths.size() ? widths[i] : displayWidth(row[i]) + 3;
      size_t dw = displayWidth(row[i]);
      line.append(w > dw ? w - dw : 1, ' ');
    }
  }
  return line + "\n";
}

std::string tabwrite(const std::vector<std::vector<std::string>>& rows) {
  auto widths = columnWidths(rows);
  std::string out;
  for (const auto& r : rows) out += formatRow(r, widths);
  return out;
}

std::string toJsonText(const Json& value) {
  return value.dump(4) + "\n";
}

std::string typeWord(const std::string& kind, const std::string& group) {
  std::string w;
  for (char c : kind) w.push_back(static_cast<char>(tolower(static_cast<unsigned char>(c))));
  return group.empty() ? w : w + "." + group;
}

// ---- JSONPath ----
namespace {

struct Node {
  enum Type { kText, kExpr, kRange } type = kText;
  std::string text;            // kText: literal; kExpr/kRange: the path
  std::vector<Node> children;  // kRange body
};

Result<std::vector<Node>> parseTemplate(const std::string& t, size_t& i, bool inRange) {
  std::vector<Node> nodes;
  while (i < t.size()) {
    if (t[i] != '{') {
      size_t j = t.find('{', i);
      if (j == std::string::npos) j = t.size();
      nodes.push_back({Node::kText, t.substr(i, j - i), {}});
      i = j;
      continue;
    }
    // Find the matching '}' outside quotes.
    size_t j = i + 1;
    char quote = 0;
    int depth = 0;
    for (; j < t.size(); ++j) {
      char c = t[j];
      if (quote) {
        if (c == '\\')
          ++j;
        else if (c == quote)
          quote = 0;
      } else if (c == '"' || c == '\'')
        quote = c;
      else if (c == '[' || c == '(')
        ++depth;
      else if (c == ']' || c == ')')
        --depth;
      else if (c == '}' && depth <= 0)
        break;
    }
    if (j >= t.size()) return makeError(Code::kBadRequest, "unclosed action");
    std::string expr = t.substr(i + 1, j - i - 1);
    i = j + 1;
    while (!expr.empty() && expr.front() == ' ') expr.erase(0, 1);
    while (!expr.empty() && expr.back() == ' ') expr.pop_back();
    if (expr == "end") {
      if (!inRange) return makeError(Code::kBadRequest, "not in range, nothing to end");
      return nodes;
    }
    if (expr.rfind("range ", 0) == 0) {
      Node r{Node::kRange, expr.substr(6), {}};
      auto body = parseTemplate(t, i, true);
      if (!body) return body.error();
      r.children = std::move(*body);
      nodes.push_back(std::move(r));
      continue;
    }
    if (!expr.empty() && expr[0] == '"') {
      // A string literal with Go escapes.
      std::string lit;
      for (size_t k = 1; k + 1 < expr.size(); ++k) {
        if (expr[k] == '\\' && k + 2 < expr.size() + 1) {
          char n = expr[++k];
          lit.push_back(n == 'n' ? '\n' : n == 't' ? '\t' : n == 'r' ? '\r' : n);
        } else {
          lit.push_back(expr[k]);
        }
      }
      nodes.push_back({Node::kText, lit, {}});
      continue;
    }
    nodes.push_back({Node::kExpr, expr, {}});
  }
  if (inRange) return makeError(Code::kBadRequest, "range without end");
  return nodes;
}

void collectRecursive(const Json& v, const std::string& key, std::vector<Json>& out) {
  if (v.is_object()) {
    if (key.empty() || key == "*") {
      for (const auto& c : v) out.push_back(c);
    } else if (v.contains(key)) {
      out.push_back(v[key]);
    }
    for (const auto& c : v) collectRecursive(c, key, out);
  } else if (v.is_array()) {
    for (const auto& c : v) collectRecursive(c, key, out);
  }
}

Result<std::vector<Json>> evalPath(const std::string& path, const std::vector<Json>& input);

bool filterMatches(const std::string& cond, const Json& item) {
  // @.a.b == "x" | @.a != 'x' | @.a (exists) | @.a > 3 (numbers)
  static const char* ops[] = {"==", "!=", "<=", ">=", "<", ">"};
  for (const char* op : ops) {
    size_t p = cond.find(op);
    if (p == std::string::npos) continue;
    std::string lhs = cond.substr(0, p), rhs = cond.substr(p + std::strlen(op));
    auto trim = [](std::string s) {
      while (!s.empty() && s.front() == ' ') s.erase(0, 1);
      while (!s.empty() && s.back() == ' ') s.pop_back();
      return s;
    };
    lhs = trim(lhs);
    rhs = trim(rhs);
    if (lhs.rfind("@", 0) == 0) lhs = lhs.substr(1);
    auto vals = evalPath(lhs, {item});
    if (!vals || vals->empty()) return false;
    const Json& v = vals->front();
    Json r;
    if (!rhs.empty() && (rhs[0] == '"' || rhs[0] == '\''))
      r = rhs.substr(1, rhs.size() - 2);
    else
      r = Json::parse(rhs, nullptr, false);
    std::string o = op;
    if (o == "==") return v == r;
    if (o == "!=") return v != r;
    if (!v.is_number() || !r.is_number()) return false;
    double a = v.get<double>(), b = r.get<double>();
    if (o == "<") return a < b;
    if (o == ">") return a > b;
    if (o == "<=") return a <= b;
    return a >= b;
  }
  std::string p = cond;
  if (p.rfind("@", 0) == 0) p = p.substr(1);
  auto vals = evalPath(p, {item});
  return vals && !vals->empty();
}

Result<std::vector<Json>> evalPath(const std::string& path, const std::vector<Json>& input) {
  std::vector<Json> cur = input;
  size_t i = 0;
  if (!path.empty() && (path[0] == '$' || path[0] == '@')) i = 1;
  while (i < path.size()) {
    std::vector<Json> next;
    if (path.compare(i, 2, "..") == 0) {
      i += 2;
      size_t j = i;
      while (j < path.size() && path[j] != '.' && path[j] != '[') ++j;
      std::string key = path.substr(i, j - i);
      for (const auto& v : cur) collectRecursive(v, key, next);
      i = j;
    } else if (path[i] == '.') {
      ++i;
      size_t j = i;
      while (j < path.size() && path[j] != '.' && path[j] != '[') ++j;
      std::string key = path.substr(i, j - i);
      i = j;
      if (key.empty()) continue;
      for (const auto& v : cur) {
        if (key == "*") {
          if (v.is_object() || v.is_array())
            for (const auto& c : v) next.push_back(c);
        } else if (v.is_object() && v.contains(key)) {
          next.push_back(v[key]);
        }
      }
    } else if (path[i] == '[') {
      size_t j = i + 1;
      char quote = 0;
      int depth = 0;
      for (; j < path.size(); ++j) {
        char c = path[j];
        if (quote) {
          if (c == quote) quote = 0;
        } else if (c == '"' || c == '\'')
          quote = c;
        else if (c == '(' || c == '[')
          ++depth;
        else if (c == ')')
          --depth;
        else if (c == ']') {
          if (depth == 0) break;
          --depth;
        }
      }
      if (j >= path.size()) return makeError(Code::kBadRequest, "unterminated array");
      std::string in = path.substr(i + 1, j - i - 1);
      i = j + 1;
      if (in == "*") {
        for (const auto& v : cur)
          if (v.is_array() || v.is_object())
            for (const auto& c : v) next.push_back(c);
      } else if (!in.empty() && (in[0] == '\'' || in[0] == '"')) {
        std::string key = in.substr(1, in.size() - 2);
        for (const auto& v : cur)
          if (v.is_object() && v.contains(key)) next.push_back(v[key]);
      } else if (in.rfind("?(", 0) == 0 && in.back() == ')') {
        std::string cond = in.substr(2, in.size() - 3);
        for (const auto& v : cur)
          if (v.is_array())
            for (const auto& c : v)
              if (filterMatches(cond, c)) next.push_back(c);
      } else {
        // [n], [a:b]
        auto colon = in.find(':');
        for (const auto& v : cur) {
          if (!v.is_array()) continue;
          long n = static_cast<long>(v.size());
          try {
            if (colon == std::string::npos) {
              long k = std::stol(in);
              if (k < 0) k += n;
              if (k >= 0 && k < n)
                next.push_back(v[k]);
              else
                return makeError(Code::kBadRequest, "array index out of bounds: index " + in +
                                                        ", length " + std::to_string(n));
            } else {
              std::string a = in.substr(0, colon), b = in.substr(colon + 1);
              long s = a.empty() ? 0 : std::stol(a), e = b.empty() ? n : std::stol(b);
              if (s < 0) s += n;
              if (e < 0) e += n;
              for (long k = std::max(0L, s); k < std::min(n, e); ++k) next.push_back(v[k]);
            }
          } catch (const std::exception&) {
            return makeError(Code::kBadRequest, "invalid array index " + in);
          }
        }
      }
    } else {
      // A bare field name at the start: "metadata.name".
      size_t j = i;
      while (j < path.size() && path[j] != '.' && path[j] != '[') ++j;
      std::string key = path.substr(i, j - i);
      i = j;
      for (const auto& v : cur)
        if (v.is_object() && v.contains(key)) next.push_back(v[key]);
    }
    cur = std::move(next);
  }
  return cur;
}

std::string valueText(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "";
  return v.dump();
}

Status render(const std::vector<Node>& nodes, const Json& data, std::string& out) {
  for (const auto& n : nodes) {
    if (n.type == Node::kText) {
      out += n.text;
    } else if (n.type == Node::kExpr) {
      auto vals = evalPath(n.text, {data});
      if (!vals) return vals.error();
      for (size_t k = 0; k < vals->size(); ++k) {
        if (k) out += " ";
        out += valueText((*vals)[k]);
      }
    } else {
      auto vals = evalPath(n.text, {data});
      if (!vals) return vals.error();
      for (const auto& v : *vals) {
        auto s = render(n.children, v, out);
        if (!s) return s;
      }
    }
  }
  return Status();
}

}  // namespace

Result<std::string> jsonPath(const std::string& tmpl, const Json& data) {
  size_t i = 0;
  auto nodes = parseTemplate(tmpl, i, false);
  if (!nodes) return nodes.error().wrap("error parsing jsonpath " + tmpl);
  std::string out;
  auto s = render(*nodes, data, out);
  if (!s) return s.error().wrap("error executing jsonpath \"" + tmpl + "\"");
  return out;
}

}  // namespace skiff::ctl

namespace skiff::ctl {
namespace {

struct TabState {
  std::vector<std::vector<std::string>> lines;
  std::vector<size_t> widths;
  size_t minwidth, padding;
  std::string out;

  void writeLines(size_t line0, size_t line1) {
    for (size_t i = line0; i < line1; ++i) {
      const auto& line = lines[i];
      for (size_t j = 0; j < line.size(); ++j) {
        out += line[j];
        if (j + 1 < line.size() && j < widths.size()) {
          size_t w = displayWidth(line[j]);
          if (widths[j] > w) out.append(widths[j] - w, ' ');
        }
      }
      if (i + 1 < lines.size()) out += "\n";
    }
  }

  void format(size_t line0, size_t line1) {
    size_t column = widths.size();
    for (size_t th = line0; th < line1; ++th) {
      if (column + 1 >= lines[th].size()) continue;
      writeLines(line0, th);
      line0 = th;
      size_t width = minwidth;
      for (; th < line1; ++th) {
        if (column + 1 >= lines[th].size()) break;
        width = std::max(width, displayWidth(lines[th][column]) + padding);
      }
      widths.push_back(width);
      format(line0, th);
      widths.pop_back();
      line0 = th;
    }
    writeLines(line0, line1);
  }
};

}  // namespace

std::string goTabwriter(const std::string& text, size_t minwidth, size_t padding) {
  TabState s;
  s.minwidth = minwidth;
  s.padding = padding;
  size_t start = 0;
  while (start <= text.size()) {
    size_t nl = text.find('\n', start);
    std::string line = text.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
    std::vector<std::string> cells;
    size_t cs = 0;
    while (true) {
      size_t tab = line.find('\t', cs);
      if (tab == std::string::npos) {
        cells.push_back(line.substr(cs));
        break;
      }
      cells.push_back(line.substr(cs, tab - cs));
      cs = tab + 1;
    }
    s.lines.push_back(std::move(cells));
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  s.format(0, s.lines.size());
  return s.out;
}

}  // namespace skiff::ctl
