// openApiV2Protobuf: the v2 JSON document's definitions, re-encoded by hand in
// the protobuf wire format of gnostic's openapi_v2.Document (OpenAPIv2.proto),
// so no protobuf library is needed. Only the Schema fields the JSON document
// uses are written; vendor extensions travel as YAML text (JSON is YAML).
#include <string>

#include "api/openapi.h"

namespace skiff::api {

namespace {

// Field numbers from gnostic's OpenAPIv2.proto.
enum DocumentField { kDocSwagger = 1, kDocInfo = 2, kDocDefinitions = 9 };
enum InfoField { kInfoTitle = 1, kInfoVersion = 2 };
enum SchemaField {
  kSchemaRef = 1,
  kSchemaFormat = 2,
  kSchemaDescription = 4,
  kSchemaRequired = 19,
  kSchemaAdditionalProperties = 21,
  kSchemaType = 22,
  kSchemaItems = 23,
  kSchemaAllOf = 24,
  kSchemaProperties = 25,
  kSchemaVendorExtension = 31,
};
// NamedSchema/NamedAny: name = 1, value = 2. Any: yaml = 2. TypeItem: value = 1.
// ItemsItem: schema = 1. Properties/Definitions: additional_properties = 1.
// AdditionalPropertiesItem: schema = 1, boolean = 2.

void varint(std::string& out, unsigned long long v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void bytesField(std::string& out, int field, const std::string& bytes) {
  varint(out, (static_cast<unsigned>(field) << 3) | 2);  // wire type 2: length-delimited
  varint(out, bytes.size());
  out += bytes;
}

void boolField(std::string& out, int field, bool v) {
  varint(out, static_cast<unsigned>(field) << 3);  // wire type 0: varint
  varint(out, v ? 1 : 0);
}

std::string named(const std::string& name, const std::string& value) {
  std::string m;
  bytesField(m, 1, name);
  bytesField(m, 2, value);
  return m;
}

std::string schema(const Json& s) {
  std::string out;
  if (!s.is_object()) return out;
  if (auto it = s.find("$ref"); it != s.end()) bytesField(out, kSchemaRef, it->get<std::string>());
  if (auto it = s.find("format"); it != s.end()) {
    bytesField(out, kSchemaFormat, it->get<std::string>());
  }
  if (auto it = s.find("description"); it != s.end()) {
    bytesField(out, kSchemaDescription, it->get<std::string>());
  }
  if (auto it = s.find("required"); it != s.end()) {
    for (const Json& r : *it) bytesField(out, kSchemaRequired, r.get<std::string>());
  }
  if (auto it = s.find("additionalProperties"); it != s.end()) {
    std::string item;
    if (it->is_boolean()) {
      boolField(item, 2, it->get<bool>());
    } else {
      bytesField(item, 1, schema(*it));
    }
    bytesField(out, kSchemaAdditionalProperties, item);
  }
  if (auto it = s.find("type"); it != s.end()) {
    std::string typeItem;
    bytesField(typeItem, 1, it->get<std::string>());
    bytesField(out, kSchemaType, typeItem);
  }
  if (auto it = s.find("items"); it != s.end()) {
    std::string items;
    bytesField(items, 1, schema(*it));
    bytesField(out, kSchemaItems, items);
  }
  if (auto it = s.find("allOf"); it != s.end()) {
    for (const Json& e : *it) bytesField(out, kSchemaAllOf, schema(e));
  }
  if (auto it = s.find("properties"); it != s.end()) {
    std::string props;
    for (auto p = it->begin(); p != it->end(); ++p) {
      bytesField(props, 1, named(p.key(), schema(p.value())));
    }
    bytesField(out, kSchemaProperties, props);
  }
  for (auto it = s.begin(); it != s.end(); ++it) {
    if (it.key().rfind("x-", 0) != 0) continue;
    std::string any;
    bytesField(any, 2, it.value().dump());  // Any.yaml
    bytesField(out, kSchemaVendorExtension, named(it.key(), any));
  }
  return out;
}

}  // namespace

const std::string& openApiV2Protobuf() {
  static const std::string doc = [] {
    Json v2 = buildOpenApiV2();
    std::string out;
    bytesField(out, kDocSwagger, v2.value("swagger", "2.0"));
    std::string info;
    bytesField(info, kInfoTitle, v2["info"].value("title", "Kubernetes"));
    bytesField(info, kInfoVersion, v2["info"].value("version", ""));
    bytesField(out, kDocInfo, info);
    std::string defs;
    for (auto it = v2["definitions"].begin(); it != v2["definitions"].end(); ++it) {
      bytesField(defs, 1, named(it.key(), schema(it.value())));
    }
    bytesField(out, kDocDefinitions, defs);
    return out;
  }();
  return doc;
}

}  // namespace skiff::api
