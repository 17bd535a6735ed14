// libpqxx example for the PostgreSQL client conformance harness.
//
// Runs the scenario named by HARNESS_SCENARIO with the parameters in HARNESS_PARAMS (JSON) and
// prints exactly one JSON result line on stdout; what the page's sample prints goes to stderr.
// Written against the API that libpqxx 6.4 (Debian bookworm) and 7.x have in common.
#include <pqxx/pqxx>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>

using json = nlohmann::json;

namespace {

// stdout carries the harness's JSON lines only: main() sends std::cout, what the sample
// prints, to stderr.
std::ostream harness_out(std::cout.rdbuf());

// [HELPER user_row] turns one pqxx::row into {"id", "name"} JSON (nlohmann::json), what the program reports
// A user row as the contract wants it. (Iterating a pqxx::result yields a const_result_iterator,
// which is a pqxx::row in both 6.4 and 7.x.)
json user_row(const pqxx::row &row) {
    return {{"id", row["id"].as<int>()}, {"name", row["name"].c_str()}};
}

json user_rows(const pqxx::result &result) {
    json rows = json::array();
    for (auto row : result) rows.push_back(user_row(row));
    return rows;
}

// libpq hands timestamps over in the server's DateStyle (ISO by default):
// "2024-02-29 23:59:58.123+00". ISO 8601 wants a 'T' and a "+hh:mm" offset.
std::string iso8601(std::string ts) {
    if (ts.size() > 10 && ts[10] == ' ') ts[10] = 'T';
    const auto sign = ts.find_last_of("+-");
    if (sign != std::string::npos && sign > 10 && ts.size() - sign == 3) ts += ":00";
    return ts;
}

// int[] in PostgreSQL's text form, "{1,-2,3}", as a JSON array of numbers.
json int_array(const std::string &text) {
    json out = json::array();
    std::istringstream items(text.substr(1, text.size() - 2));
    for (std::string item; std::getline(items, item, ',');) out.push_back(std::stoll(item));
    return out;
}

// The page's "libpqxx" sample, which every scenario runs through: its connection string, and
// its query (connect, open a work (transaction), exec, print every row, commit).
// [START cpp_libpqxx]
// The page's "host=localhost port=5432 dbname=mydb user=postgres password=secret", less what the
// environment sets: libpq reads PGHOST, PGPORT, ..., PGSSLMODE and PGSSLROOTCERT itself.
std::string conninfo() {
    const char *const page[][2] = {{"PGHOST", "host=localhost"}, {"PGPORT", "port=5432"},
                                   {"PGDATABASE", "dbname=mydb"}, {"PGUSER", "user=postgres"},
                                   {"PGPASSWORD", "password=secret"}};
    std::string info;
    for (const auto &[variable, setting] : page)
        if (!std::getenv(variable)) info += std::string(setting) + " ";
    return info;
}

json list_users(const std::string &sql = "SELECT id, name FROM users") {
    pqxx::connection conn(conninfo());
    pqxx::work txn(conn);
    auto result = txn.exec(sql);
    json rows = json::array();
    for (auto row : result) {
        std::cout << row["id"].as<int>()
                  << ": " << row["name"].c_str()
                  << std::endl;
        rows.push_back(user_row(row));
    }
    txn.commit();
    return rows;
}  // conn's destructor closes the connection
// [END cpp_libpqxx]

const std::string kConnInfo = conninfo();

// Every active user with their holdings in one query: the LEFT JOIN keeps a user who holds
// nothing (one row of NULLs), where a query per user would be an N+1.
json related_rows(const json &) {
    pqxx::connection conn(kConnInfo);
    pqxx::work txn(conn);
    auto result = txn.exec(
        "SELECT u.id, u.name, h.symbol, h.shares FROM users u"
        " LEFT JOIN holdings h ON h.user_id = u.id"
        " WHERE u.active ORDER BY u.id, h.id");
    json users = json::array();
    for (auto row : result) {
        const int id = row["id"].as<int>();
        if (users.empty() || users.back()["id"] != id)
            users.push_back(json{{"id", id}, {"name", row["name"].c_str()}, {"holdings", json::array()}});
        if (!row["symbol"].is_null())
            users.back()["holdings"].push_back(
                json{{"symbol", row["symbol"].c_str()}, {"shares", row["shares"].as<int>()}});
    }
    txn.commit();
    return json{{"users", users}};
}

json connect_now(const json &) {
    pqxx::connection conn(kConnInfo);
    pqxx::work txn(conn);
    const auto now = txn.exec("SELECT NOW()")[0][0].as<std::string>();
    txn.commit();
    std::cerr << "connected, server time " << now << std::endl;
    return {{"now", iso8601(now)}};
}

json param_query(const json &p) {
    pqxx::connection conn(kConnInfo);
    pqxx::work txn(conn);
    // exec_params sends the query with $1 and the value separately (PQexecParams): the
    // hostile names below stay data. (7.10 deprecates exec_params for exec(query, params{...}),
    // which 6.4 lacks; the deprecated call still compiles there.)
    const json by_id = user_rows(
        txn.exec_params("SELECT id, name FROM users WHERE id = $1", p.at("id").get<int>()));
    json by_name = json::array();
    for (const auto &name : p.at("names"))
        by_name.push_back(user_rows(txn.exec_params(
            "SELECT id, name FROM users WHERE name = $1 ORDER BY id", name.get<std::string>())));
    txn.commit();
    return {{"by_id", by_id}, {"by_name", by_name}};
}

json transaction(const json &p) {
    pqxx::connection conn(kConnInfo);
    const std::string insert = "INSERT INTO users (id, name, active) VALUES ($1, $2, $3)";
    const auto name = [&p](int id) {
        return p.at("name_prefix").get<std::string>() + " " + std::to_string(id);
    };
    const int committed = p.at("committed_id"), rolled_back = p.at("rolled_back_id");
    const int failed = p.at("failed_id"), duplicate = p.at("duplicate_id");

    {  // (1) committed: visible afterwards
        pqxx::work txn(conn);
        txn.exec_params(insert, committed, name(committed), true);
        txn.commit();
    }
    {  // (2) rolled back on purpose: never visible
        pqxx::work txn(conn);
        txn.exec_params(insert, rolled_back, name(rolled_back), true);
        txn.abort();
    }
    std::string failed_sqlstate;
    {  // (3) a failing statement aborts the whole transaction on the server; roll it back
        pqxx::work txn(conn);
        txn.exec_params(insert, failed, name(failed), true);
        try {
            txn.exec_params(insert, duplicate, name(duplicate), true);
        } catch (const pqxx::unique_violation &e) {
            failed_sqlstate = e.sqlstate();
            std::cerr << "expected failure: " << e.what();
        }
        txn.abort();
    }
    // (4) a new transaction on the same connection sees only the committed row
    pqxx::work txn(conn);
    json visible = json::array();
    for (auto row : txn.exec("SELECT id FROM users WHERE id >= 1000 ORDER BY id"))
        visible.push_back(row["id"].as<int>());
    txn.commit();
    return {{"visible", visible}, {"failed_sqlstate", failed_sqlstate}};
}

json error_sqlstate(const json &p) {
    pqxx::connection conn(kConnInfo);
    // Every error the server reports is a pqxx::sql_error (unique_violation, syntax_error ...
    // are subclasses) carrying the SQLSTATE. A failed work is rolled back when it goes out of
    // scope; the connection stays usable for the next one.
    std::string unique_violation, syntax_error;
    try {
        pqxx::work txn(conn);
        txn.exec_params("INSERT INTO users (id, name) VALUES ($1, $2)",
                        p.at("duplicate_id").get<int>(), "error_sqlstate probe");
        txn.commit();
    } catch (const pqxx::sql_error &e) {
        unique_violation = e.sqlstate();
        std::cerr << "expected failure: " << e.what();
    }
    try {
        pqxx::work txn(conn);
        txn.exec(p.at("bad_sql").get<std::string>());
        txn.commit();
    } catch (const pqxx::sql_error &e) {
        syntax_error = e.sqlstate();
        std::cerr << "expected failure: " << e.what();
    }
    pqxx::work txn(conn);
    const int after = txn.exec("SELECT 1")[0][0].as<int>();
    txn.commit();
    return {{"unique_violation", unique_violation}, {"syntax_error", syntax_error}, {"after", after}};
}

json types(const json &p) {
    const json &v = p.at("values");
    // libpqxx sends every parameter as text (pqxx::to_string of the C++ value) with no type,
    // so the casts in the SQL tell the server what each one is.
    // bytea travels as its hex text form "\x..." cast with $7::bytea: pqxx::binarystring
    // is deprecated in 7.x and its replacement (std::basic_string<std::byte>) is missing in 6.4.
    // int[] travels as the array literal "{1,-2,3}".
    // NULL: an empty std::optional is sent as SQL NULL (6.4 and 7.x both support it).
    std::string array = "{";
    for (const auto &n : v.at("int_array")) array += (array.size() > 1 ? "," : "") + n.dump();
    array += "}";
    const auto nothing = v.at("null").is_null()
        ? std::optional<std::string>{} : v.at("null").get<std::string>();

    pqxx::connection conn(kConnInfo);
    pqxx::work txn(conn);
    const int id = txn.exec_params(
        "INSERT INTO type_probe (i8, num, txt, flag, ts, d, bin, doc, arr, nothing) "
        "VALUES ($1::int8, $2::numeric, $3::text, $4::bool, $5::timestamptz, $6::date, "
        "$7::bytea, $8::jsonb, $9::int[], $10::text) RETURNING id",
        std::stoll(v.at("int8").get<std::string>()), v.at("numeric").get<std::string>(),
        v.at("text").get<std::string>(), v.at("bool").get<bool>(),
        v.at("timestamptz").get<std::string>(), v.at("date").get<std::string>(),
        "\\x" + v.at("bytea").get<std::string>(), v.at("jsonb").dump(), array, nothing)[0][0]
        .as<int>();

    // bytea is read through encode(..., 'hex') so the result does not depend on the server's
    // bytea_output setting; everything else is the server's own text form, converted here.
    const pqxx::result res = txn.exec_params(
        "SELECT i8, num, txt, flag, ts, d, encode(bin, 'hex') AS bin, doc, arr, nothing "
        "FROM type_probe WHERE id = $1", id);
    txn.commit();
    const auto r = res[0];
    return {{"values", {
        {"int8", std::to_string(r["i8"].as<long long>())},
        {"numeric", r["num"].as<std::string>()},  // C++ has no decimal type: keep the exact text
        {"text", r["txt"].as<std::string>()},
        {"bool", r["flag"].as<bool>()},
        {"timestamptz", iso8601(r["ts"].as<std::string>())},
        {"date", r["d"].as<std::string>()},        // DateStyle ISO: YYYY-MM-DD
        {"bytea", r["bin"].as<std::string>()},
        {"jsonb", json::parse(r["doc"].c_str())},
        {"int_array", int_array(r["arr"].c_str())},
        {"null", r["nothing"].is_null() ? json(nullptr) : json(r["nothing"].c_str())},
    }}};
}

// ---------------------------------------------------------------------------------------------
// The connection lifecycle: TLS, pg_hba.conf, SCRAM and the cost of a new connection. libpq
// takes PGSSLMODE, PGSSLROOTCERT and PGPASSWORD from the environment, so the connection is
// made exactly as above; only what the harness sets differs per scenario.

// The harness acts while the program waits: announce the checkpoint, then read its reply.
void checkpoint(const std::string &name) {
    harness_out << json{{"type", "checkpoint"}, {"name", name}}.dump() << std::endl;
    std::string reply;
    if (!std::getline(std::cin, reply) ||
        json::parse(reply) != json{{"type", "continue"}, {"name", name}})
        throw std::runtime_error("unexpected reply to checkpoint " + name + ": " + reply);
}

double ms_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
        .count();
}

json tls_verify_full(const json &) {
    pqxx::connection conn(kConnInfo);  // PGSSLMODE=verify-full: libpq checks the CA and host name
    pqxx::work txn(conn);
    const auto row =
        txn.exec("SELECT ssl, version, cipher FROM pg_stat_ssl WHERE pid = pg_backend_pid()")[0];
    const auto text = [](const pqxx::field &f) {
        return f.is_null() ? json(nullptr) : json(f.c_str());
    };
    const json data = {{"ssl", row["ssl"].as<bool>()}, {"version", text(row["version"])},
                       {"cipher", text(row["cipher"])}};
    txn.commit();
    std::cerr << "connected over " << data["version"] << " " << data["cipher"] << std::endl;
    checkpoint("connected");  // the harness reads pg_stat_ssl while this connection is open
    return data;
}  // conn closes here

// A connection that must fail. libpq gives no SQLSTATE for a failed connection, only the
// server's or OpenSSL's message, so the kind comes from the message and sqlstate is null.
json failed_connect(const json &) {
    const auto start = std::chrono::steady_clock::now();
    json error;
    try {
        pqxx::connection conn(kConnInfo);
        pqxx::work txn(conn);
        txn.exec("SELECT 1");
        txn.commit();
        error = {{"kind", "none"}, {"type", "none"}, {"sqlstate", nullptr},
                 {"message", "connected"}};
    } catch (const pqxx::broken_connection &e) {
        const std::string message = e.what();
        const auto says = [&message](const char *text) {
            return message.find(text) != std::string::npos;
        };
        const char *kind = says("certificate verify failed")       ? "certificate"
                         : says("does not match host name")        ? "certificate"
                         : says("pg_hba.conf")                     ? "refused"
                         : says("password authentication failed")  ? "auth"
                                                                   : "other";
        error = {{"kind", kind}, {"type", "pqxx::broken_connection"}, {"sqlstate", nullptr},
                 {"message", message}};
        std::cerr << "expected failure: " << message;
    }
    return {{"error", error}, {"elapsed_ms", ms_since(start)}};
}

// The page's claim "a new connection takes 20-50 ms": time fresh connections (TLS or not, as
// PGSSLMODE says), then queries on one open connection.
json connect_latency(const json &p) {
    json connect_ms = json::array(), query_ms = json::array();
    for (int i = 0; i < p.at("connections").get<int>(); ++i) {
        const auto start = std::chrono::steady_clock::now();
        pqxx::connection conn(kConnInfo);  // returns once the session is authenticated
        connect_ms.push_back(ms_since(start));
    }  // each one closed here, outside its timing
    pqxx::connection conn(kConnInfo);
    pqxx::nontransaction txn(conn);  // autocommit: each exec is the one query, no BEGIN/COMMIT
    for (int i = 0; i < p.at("queries").get<int>(); ++i) {
        const auto start = std::chrono::steady_clock::now();
        txn.exec("SELECT 1");
        query_ms.push_back(ms_since(start));
    }
    std::cerr << connect_ms.size() << " connections, " << query_ms.size() << " queries"
              << std::endl;
    return {{"connect_ms", connect_ms}, {"query_ms", query_ms}, {"pooled", false}};
}

// Session state, for the PgBouncer matrix (docs/pgbouncer.md): a statement prepared by name and
// a session setting live in one server session, which transaction pooling does not keep.
// conn.prepare() names the statement for the connection (7.x prepares it at once, 6.4 at its
// first use); each execution is a work of its own that runs it by that name.
json prepared_statement_reuse(const json &p) {
    pqxx::connection conn(kConnInfo);
    const auto name = p.at("name").get<std::string>();
    conn.prepare(name, "SELECT id, name FROM users WHERE id = $1");
    json results = json::array();
    for (const auto &id : p.at("ids")) {
        pqxx::work txn(conn);
        results.push_back(user_rows(txn.exec_prepared(name, id.get<int>())));
        txn.commit();
        if (results.size() == 1) checkpoint("prepared");  // the harness may replace server connections here
    }
    return {{"results", results}};
}

// One statement with one text parameter as a work of its own; its one value, or null.
json single_value(pqxx::connection &conn, const std::string &sql, const std::string &arg,
                  const std::optional<std::string> &second = std::nullopt) {
    pqxx::work txn(conn);
    const pqxx::result result = second ? txn.exec_params(sql, arg, *second) : txn.exec_params(sql, arg);
    txn.commit();
    return result[0][0].is_null() ? json(nullptr) : json(result[0][0].c_str());
}

// set_config(name, value, false) is SET for the session, with the value bound. Client 1 sets it,
// client 2 reads it, client 1 reads it back; at the checkpoints the harness may replace server
// connections.
json session_set(const json &p) {
    pqxx::connection first(kConnInfo), second(kConnInfo);
    const auto setting = p.at("setting").get<std::string>();
    const std::string read = "SELECT current_setting($1, true)";
    checkpoint("connected");
    single_value(first, "SELECT set_config($1, $2, false)", setting, p.at("value").get<std::string>());
    const json other_client_read = single_value(second, read, setting);
    checkpoint("before_read_back");
    return {{"read_back", single_value(first, read, setting)}, {"other_client_read", other_client_read}};
}

// A session advisory lock: client 1 takes it, client 2 tries it, client 1 unlocks it; each
// statement a work of its own.
json advisory_lock(const json &p) {
    pqxx::connection first(kConnInfo), second(kConnInfo);
    const auto key = std::to_string(p.at("key").get<long long>());
    const auto once = [&key](pqxx::connection &conn, const std::string &sql) {
        pqxx::work txn(conn);
        const pqxx::result result = txn.exec_params(sql, key);
        txn.commit();
        return result;
    };
    checkpoint("connected");
    once(first, "SELECT pg_advisory_lock($1::bigint)");
    const bool other_client_got_it = once(second, "SELECT pg_try_advisory_lock($1::bigint)")[0][0].as<bool>();
    checkpoint("before_unlock");
    const bool unlocked = once(first, "SELECT pg_advisory_unlock($1::bigint)")[0][0].as<bool>();
    return {{"other_client_got_it", other_client_got_it}, {"unlocked", unlocked}};
}

}  // namespace

int main() {
    std::cout.rdbuf(std::cerr.rdbuf());
    const char *scenario_env = std::getenv("HARNESS_SCENARIO");
    const std::string scenario = scenario_env ? scenario_env : "";
    const std::map<std::string, std::function<json(const json &)>> scenarios = {
        {"connect_now", connect_now},
        {"select_rows", [](const json &) {
             return json{{"rows", list_users("SELECT id, name FROM users ORDER BY id")}}; }},
        {"param_query", param_query},
        {"active_users", [](const json &) {
             return json{{"rows", list_users("SELECT id, name FROM users WHERE active ORDER BY id")}}; }},
        {"related_rows", related_rows},
        {"transaction", transaction},
        {"error_sqlstate", error_sqlstate},
        {"types", types},
        {"tls_verify_full", tls_verify_full},
        {"tls_wrong_ca", failed_connect},
        {"tls_wrong_host", failed_connect},
        {"plaintext_refused", failed_connect},
        {"auth_wrong_password", failed_connect},
        {"connect_latency", connect_latency},
        {"connect_latency_tls", connect_latency},
        {"prepared_statement_reuse", prepared_statement_reuse},
        {"session_set", session_set},
        {"advisory_lock", advisory_lock},
    };
    const auto it = scenarios.find(scenario);
    if (it == scenarios.end()) {
        std::cerr << "unknown scenario: '" << scenario << "'" << std::endl;
        return 2;
    }
    try {
        const char *params = std::getenv("HARNESS_PARAMS");
        const json data = it->second(json::parse(params && *params ? params : "{}"));
        harness_out << json{{"type", "result"}, {"scenario", scenario}, {"data", data}}.dump()
                  << std::endl;  // std::endl flushes
        return 0;
    } catch (const std::exception &e) {
        std::cerr << "error: " << e.what() << std::endl;
        return 1;
    }
}
