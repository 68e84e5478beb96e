#include "support/json_schema.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace muster::test {

namespace {

bool has_type(const boost::json::value& v, std::string_view type) {
    if (type == "null") return v.is_null();
    if (type == "boolean") return v.is_bool();
    if (type == "integer") return v.is_int64() || v.is_uint64();
    if (type == "number") return v.is_number();
    if (type == "string") return v.is_string();
    if (type == "array") return v.is_array();
    if (type == "object") return v.is_object();
    throw std::runtime_error("schema uses unknown type " + std::string(type));
}

double as_double(const boost::json::value& v) { return v.to_number<double>(); }

void validate(const boost::json::object& schema, const boost::json::value& v,
              const std::string& where, std::vector<std::string>& out) {
    static const std::vector<std::string> known = {
        "$schema", "$id", "title", "description", "type", "properties", "required",
        "additionalProperties", "items", "enum", "minimum", "maximum"};
    for (const auto& [key, unused] : schema)
        if (std::find(known.begin(), known.end(), std::string(key)) == known.end())
            throw std::runtime_error("schema keyword not supported by the test validator: " +
                                     std::string(key));

    if (auto* type = schema.if_contains("type")) {
        bool ok = false;
        if (type->is_string()) ok = has_type(v, type->get_string());
        else
            for (const auto& t : type->get_array()) ok = ok || has_type(v, t.get_string());
        if (!ok) {
            out.push_back(where + ": expected type " + boost::json::serialize(*type) + ", got " +
                          boost::json::serialize(v).substr(0, 80));
            return;
        }
    }
    if (auto* options = schema.if_contains("enum")) {
        const auto& list = options->get_array();
        if (std::find(list.begin(), list.end(), v) == list.end())
            out.push_back(where + ": " + boost::json::serialize(v) + " is not one of " +
                          boost::json::serialize(*options));
    }
    if (v.is_number()) {
        if (auto* min = schema.if_contains("minimum"); min && as_double(v) < as_double(*min))
            out.push_back(where + ": below minimum");
        if (auto* max = schema.if_contains("maximum"); max && as_double(v) > as_double(*max))
            out.push_back(where + ": above maximum");
    }
    if (v.is_object()) {
        const auto& object = v.get_object();
        const boost::json::object* properties = nullptr;
        if (auto* p = schema.if_contains("properties")) properties = &p->get_object();
        if (auto* required = schema.if_contains("required"))
            for (const auto& key : required->get_array())
                if (!object.contains(key.get_string()))
                    out.push_back(where + ": missing required member \"" +
                                  std::string(key.get_string()) + "\"");
        auto* additional = schema.if_contains("additionalProperties");
        bool closed = additional && additional->is_bool() && !additional->get_bool();
        for (const auto& [key, member] : object) {
            std::string at = where + "/" + std::string(key);
            if (properties && properties->contains(key))
                validate(properties->at(key).get_object(), member, at, out);
            else if (closed)
                out.push_back(at + ": member not in the schema");
        }
    }
    if (v.is_array()) {
        if (auto* items = schema.if_contains("items")) {
            std::size_t i = 0;
            for (const auto& element : v.get_array())
                validate(items->get_object(), element, where + "/" + std::to_string(i++), out);
        }
    }
}

}  // namespace

std::vector<std::string> validate_json(const boost::json::value& schema,
                                       const boost::json::value& document) {
    std::vector<std::string> out;
    validate(schema.get_object(), document, "", out);
    return out;
}

boost::json::value load_schema(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot open schema " + path);
    std::stringstream text;
    text << in.rdbuf();
    return boost::json::parse(text.str());
}

}  // namespace muster::test
