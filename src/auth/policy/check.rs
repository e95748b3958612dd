//! The parsed form of an oslo.policy rule and how it is evaluated.
//!
//! Mirrors oslo.policy's `_checks.py`: `TrueCheck`/`FalseCheck`, `not`, `and`,
//! `or`, `rule:`, `role:` and the generic `kind:match` check, including the
//! way Python renders values with `str()` before comparing them.

use std::collections::HashMap;
use std::fmt;

use serde_json::Value;

/// oslo.policy's `[oslo_policy] policy_default_rule`: a missing rule falls back
/// to the rule of this name when one is defined.
pub(crate) const DEFAULT_RULE: &str = "default";

/// One node of a parsed rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Check {
    /// `@` or the empty rule.
    Always,
    /// `!`.
    Never,
    Not(Box<Check>),
    And(Vec<Check>),
    Or(Vec<Check>),
    /// `rule:<name>`: the result of another named rule.
    Rule(String),
    /// `role:<template>`: the (substituted) role is among the caller's roles.
    Role(Template),
    /// `<kind>:<template>`: a credential (or a literal kind) equals the value.
    Generic {
        kind: String,
        subject: Subject,
        value: Template,
    },
}

/// The left side of a generic check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Subject {
    /// A Python literal (`True`, `'text'`, `42`) already rendered with `str()`.
    Literal(String),
    /// A dotted path into the credentials (`project_id`, `token.roles.name`).
    Path(Vec<String>),
}

impl Subject {
    /// Classifies a check kind the way oslo's `ast.literal_eval(kind)` would.
    /// Only the literal forms policy files use are recognized: `True`,
    /// `False`, `None`, quoted strings and integers.
    pub(crate) fn from_kind(kind: &str) -> Result<Subject, String> {
        if matches!(kind, "True" | "False" | "None") {
            return Ok(Subject::Literal(kind.to_string()));
        }
        for quote in ['\'', '"'] {
            if kind.len() >= 2 && kind.starts_with(quote) && kind.ends_with(quote) {
                let inner = &kind[1..kind.len() - 1];
                if inner.contains(quote) || inner.contains('\\') {
                    return Err(format!("unsupported quoted literal {kind}"));
                }
                return Ok(Subject::Literal(inner.to_string()));
            }
        }
        if let Some(number) = python_int(kind) {
            return Ok(Subject::Literal(number));
        }
        Ok(Subject::Path(kind.split('.').map(str::to_string).collect()))
    }
}

/// `str(int(text))` for the integer literals Python accepts without
/// underscores: an optional sign, then `0` or digits without a leading zero.
fn python_int(text: &str) -> Option<String> {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    let valid = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'));
    if !valid {
        return None;
    }
    let negative = text.starts_with('-') && digits != "0";
    Some(if negative {
        format!("-{digits}")
    } else {
        digits.to_string()
    })
}

/// The right side of `role:` and generic checks, applied to the target the
/// way oslo applies it: Python's `match % target`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Template {
    raw: String,
    pieces: Vec<Piece>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    Text(String),
    Key(String),
}

impl Template {
    /// Accepts literal text, `%%` and `%(key)s`. Other `%` conversions would
    /// fail (or misbehave) at every request in oslo, so they are refused here.
    pub(crate) fn parse(raw: &str) -> Result<Template, String> {
        let mut pieces = Vec::new();
        let mut text = String::new();
        let mut chars = raw.chars().peekable();
        while let Some(c) = chars.next() {
            if c != '%' {
                text.push(c);
                continue;
            }
            match chars.next() {
                Some('%') => text.push('%'),
                Some('(') => {
                    // Python matches nested parentheses inside the key.
                    let mut depth = 1;
                    let mut key = String::new();
                    for k in chars.by_ref() {
                        match k {
                            '(' => depth += 1,
                            ')' => depth -= 1,
                            _ => {}
                        }
                        if depth == 0 {
                            break;
                        }
                        key.push(k);
                    }
                    if depth != 0 {
                        return Err(format!("unterminated %(...) in '{raw}'"));
                    }
                    if chars.next() != Some('s') {
                        return Err(format!(
                            "only %({key})s substitutions are supported in '{raw}'"
                        ));
                    }
                    if !text.is_empty() {
                        pieces.push(Piece::Text(std::mem::take(&mut text)));
                    }
                    pieces.push(Piece::Key(key));
                }
                _ => {
                    return Err(format!(
                        "'%' must start %(key)s or be doubled as %% in '{raw}'"
                    ))
                }
            }
        }
        if !text.is_empty() {
            pieces.push(Piece::Text(text));
        }
        Ok(Template {
            raw: raw.to_string(),
            pieces,
        })
    }

    /// The substituted text, or `None` when a key is missing from the target
    /// (oslo's `KeyError`, which makes the check fail). A target that is not
    /// an object is an error, as Python's `%` would raise.
    pub(crate) fn render(&self, target: &Value) -> Result<Option<String>, String> {
        if !target.is_object() {
            return Err("the policy target must be a JSON object".to_string());
        }
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Text(text) => out.push_str(text),
                Piece::Key(key) => match target_value(target, key) {
                    Some(value) => out.push_str(&python_str(value)),
                    None => return Ok(None),
                },
            }
        }
        Ok(Some(out))
    }
}

/// Python looks `node.owner` up as one flat key, which is how Ironic builds
/// its targets; a nested `{"node": {"owner": ..}}` is accepted as well so Rust
/// callers need not flatten.
fn target_value<'a>(target: &'a Value, key: &str) -> Option<&'a Value> {
    let object = target.as_object()?;
    if let Some(value) = object.get(key) {
        return Some(value);
    }
    let mut segments = key.split('.');
    let first = object.get(segments.next()?)?;
    segments.try_fold(first, |value, segment| value.as_object()?.get(segment))
}

/// Python's `str(value)` for JSON values, which is what oslo compares.
pub(crate) fn python_str(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => python_repr(other),
    }
}

fn python_repr(value: &Value) -> String {
    match value {
        Value::Null => "None".to_string(),
        Value::Bool(true) => "True".to_string(),
        Value::Bool(false) => "False".to_string(),
        Value::Number(n) => match n.as_f64() {
            Some(f) if !(n.is_i64() || n.is_u64()) => python_float(f),
            _ => n.to_string(),
        },
        Value::String(s) => {
            if s.contains('\'') && !s.contains('"') {
                format!("\"{}\"", s.replace('\\', "\\\\"))
            } else {
                format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
            }
        }
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(python_repr).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Object(map) => {
            let items: Vec<String> = map
                .iter()
                .map(|(k, v)| {
                    format!(
                        "{}: {}",
                        python_repr(&Value::String(k.clone())),
                        python_repr(v)
                    )
                })
                .collect();
            format!("{{{}}}", items.join(", "))
        }
    }
}

/// Python's `repr(float)`: shortest round-trip digits, `.0` on integral
/// values, exponent form outside `1e-4 <= |f| < 1e16`.
fn python_float(f: f64) -> String {
    let magnitude = f.abs();
    if f == 0.0 || (1e-4..1e16).contains(&magnitude) {
        let text = format!("{f}");
        if text.contains('.') {
            text
        } else {
            format!("{text}.0")
        }
    } else {
        let text = format!("{f:e}");
        match text.split_once('e') {
            Some((mantissa, exponent)) => {
                let (sign, digits) = match exponent.strip_prefix('-') {
                    Some(digits) => ('-', digits),
                    None => ('+', exponent),
                };
                format!("{mantissa}e{sign}{digits:0>2}")
            }
            None => text,
        }
    }
}

/// Python truthiness, used where oslo writes `if creds.get(...)`.
pub(crate) fn python_truthy(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) | Some(Value::Bool(false)) => false,
        Some(Value::Bool(true)) => true,
        Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0),
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(o)) => !o.is_empty(),
    }
}

/// The named rules a `rule:` check can refer to.
#[derive(Debug, Default)]
pub(crate) struct RuleSet {
    rules: HashMap<String, Check>,
}

impl RuleSet {
    pub(crate) fn new(rules: HashMap<String, Check>) -> RuleSet {
        RuleSet { rules }
    }

    /// The rule of that name, else the `default` rule when it exists, like
    /// oslo's `Rules.__missing__`.
    pub(crate) fn resolve(&self, name: &str) -> Option<&Check> {
        self.rules
            .get(name)
            .or_else(|| self.rules.get(DEFAULT_RULE))
    }

    pub(crate) fn contains(&self, name: &str) -> bool {
        self.rules.contains_key(name)
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (&String, &Check)> {
        self.rules.iter()
    }
}

impl Check {
    /// Evaluates the rule; `rules` must be free of `rule:` cycles (the
    /// enforcer refuses cyclic rule sets when it loads them).
    ///
    /// `Err` is where oslo would raise (a credential path through a string, a
    /// `roles` that is not a list, a target that is not an object): the whole
    /// request is then denied, even under `not`, as it is in Ironic.
    pub(crate) fn eval(
        &self,
        target: &Value,
        creds: &Value,
        rules: &RuleSet,
    ) -> Result<bool, String> {
        match self {
            Check::Always => Ok(true),
            Check::Never => Ok(false),
            Check::Not(inner) => Ok(!inner.eval(target, creds, rules)?),
            Check::And(checks) => {
                for check in checks {
                    if !check.eval(target, creds, rules)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            Check::Or(checks) => {
                for check in checks {
                    if check.eval(target, creds, rules)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Check::Rule(name) => match rules.resolve(name) {
                Some(rule) => rule.eval(target, creds, rules),
                None => {
                    tracing::debug!(rule = %name, "policy references an undefined rule; failing closed");
                    Ok(false)
                }
            },
            Check::Role(template) => {
                let Some(role) = template.render(target)? else {
                    return Ok(false);
                };
                let role = role.to_lowercase();
                match creds.get("roles") {
                    None => Ok(false),
                    Some(Value::Array(roles)) => {
                        let mut found = false;
                        for held in roles {
                            let held = held.as_str().ok_or("credential roles must be strings")?;
                            found |= held.to_lowercase() == role;
                        }
                        Ok(found)
                    }
                    Some(_) => Err("credential roles must be a list".to_string()),
                }
            }
            Check::Generic { subject, value, .. } => {
                let Some(wanted) = value.render(target)? else {
                    return Ok(false);
                };
                match subject {
                    Subject::Literal(literal) => Ok(*literal == wanted),
                    Subject::Path(path) => find_in(creds, path, &wanted),
                }
            }
        }
    }

    /// Names of every rule this check refers to with `rule:`.
    pub(crate) fn references(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.collect_references(&mut out);
        out
    }

    fn collect_references<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Check::Rule(name) => out.push(name),
            Check::Not(inner) => inner.collect_references(out),
            Check::And(checks) | Check::Or(checks) => {
                checks.iter().for_each(|c| c.collect_references(out))
            }
            Check::Always | Check::Never | Check::Role(_) | Check::Generic { .. } => {}
        }
    }
}

/// oslo's `GenericCheck._find_in_dict`: walk the dotted path through the
/// credentials; a list on the way matches if any element matches.
fn find_in(value: &Value, path: &[String], wanted: &str) -> Result<bool, String> {
    let Some((key, rest)) = path.split_first() else {
        return Ok(python_str(value) == wanted);
    };
    let Value::Object(object) = value else {
        return Err(format!(
            "cannot look up credential key '{key}' in a non-object"
        ));
    };
    match object.get(key) {
        Some(Value::Array(items)) => {
            for item in items {
                if find_in(item, rest, wanted)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        Some(next) => find_in(next, rest, wanted),
        None => Ok(false),
    }
}

/// oslo's `str(check)`, handy in logs and for comparing parse trees.
impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let join = |f: &mut fmt::Formatter<'_>, checks: &[Check], op: &str| {
            let parts: Vec<String> = checks.iter().map(Check::to_string).collect();
            write!(f, "({})", parts.join(op))
        };
        match self {
            Check::Always => f.write_str("@"),
            Check::Never => f.write_str("!"),
            Check::Not(inner) => write!(f, "not {inner}"),
            Check::And(checks) => join(f, checks, " and "),
            Check::Or(checks) => join(f, checks, " or "),
            Check::Rule(name) => write!(f, "rule:{name}"),
            Check::Role(template) => write!(f, "role:{}", template.raw),
            Check::Generic { kind, value, .. } => write!(f, "{kind}:{}", value.raw),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use serde_json::json;

    fn template(raw: &str) -> Template {
        Template::parse(raw).unwrap()
    }

    #[test]
    fn template_substitutes_flat_keys_like_python() {
        let target = json!({"node.owner": "p1", "n": 3, "flag": true, "none": null});
        let render = |raw: &str| template(raw).render(&target).unwrap();
        assert_eq!(render("%(node.owner)s").unwrap(), "p1");
        assert_eq!(
            render("x-%(n)s-%(flag)s-%(none)s").unwrap(),
            "x-3-True-None"
        );
        assert_eq!(render("100%%").unwrap(), "100%");
        assert_eq!(render("%(missing)s"), None);
        assert!(template("plain")
            .render(&json!(["not", "an", "object"]))
            .is_err());
    }

    #[test]
    fn template_falls_back_to_nested_target_paths() {
        let target = json!({"node": {"owner": "p1", "meta": {"rack": 7}}});
        let render = |raw: &str, target: &Value| template(raw).render(target).unwrap();
        assert_eq!(render("%(node.owner)s", &target).unwrap(), "p1");
        assert_eq!(render("%(node.meta.rack)s", &target).unwrap(), "7");
        assert_eq!(render("%(node.lessee)s", &target), None);
        // A flat key wins, as Python's lookup only knows flat keys.
        let both = json!({"node.owner": "flat", "node": {"owner": "nested"}});
        assert_eq!(render("%(node.owner)s", &both).unwrap(), "flat");
    }

    #[test]
    fn template_rejects_other_conversions() {
        for raw in ["%s", "%(x)d", "%(x)", "%(x", "50%", "%(x)r"] {
            assert!(Template::parse(raw).is_err(), "{raw} should be refused");
        }
        assert_eq!(template("%(a(b))s").pieces, vec![Piece::Key("a(b)".into())]);
    }

    #[test]
    fn python_rendering() {
        assert_eq!(python_str(&json!("x")), "x");
        assert_eq!(python_str(&json!(true)), "True");
        assert_eq!(python_str(&json!(null)), "None");
        assert_eq!(python_str(&json!(-5)), "-5");
        assert_eq!(python_str(&json!(1.0)), "1.0");
        assert_eq!(python_str(&json!(0.25)), "0.25");
        assert_eq!(python_str(&json!(1e20)), "1e+20");
        assert_eq!(python_str(&json!(1.5e-7)), "1.5e-07");
        assert_eq!(python_str(&json!(["a", 1, null])), "['a', 1, None]");
        assert_eq!(python_str(&json!({"k": "it's"})), "{'k': \"it's\"}");
    }

    #[test]
    fn literal_kinds() {
        let lit = |s: &str| Subject::Literal(s.to_string());
        assert_eq!(Subject::from_kind("True").unwrap(), lit("True"));
        assert_eq!(Subject::from_kind("'spam'").unwrap(), lit("spam"));
        assert_eq!(Subject::from_kind("\"spam\"").unwrap(), lit("spam"));
        assert_eq!(Subject::from_kind("-0").unwrap(), lit("0"));
        assert_eq!(Subject::from_kind("+12").unwrap(), lit("12"));
        assert_eq!(
            Subject::from_kind("a.b").unwrap(),
            Subject::Path(vec!["a".into(), "b".into()])
        );
        assert!(matches!(
            Subject::from_kind("012").unwrap(),
            Subject::Path(_)
        ));
        assert!(Subject::from_kind("'a\\'b'").is_err());
    }

    #[test]
    fn find_in_walks_dicts_and_lists() {
        let creds = json!({
            "a": {"b": [{"a": ""}, {"c": {"d": ["BANANAS", "APPLES"]}}, {}]},
            "s": "text",
        });
        let path = |p: &str| p.split('.').map(str::to_string).collect::<Vec<_>>();
        let find = |p: &str, wanted: &str| find_in(&creds, &path(p), wanted);
        assert_eq!(find("a.b.c.d", "APPLES"), Ok(true));
        assert_eq!(find("a.b.c.d", "PEARS"), Ok(false));
        assert_eq!(find("a.x", "APPLES"), Ok(false));
        assert_eq!(find("s", "text"), Ok(true));
        // Python raises TypeError indexing a string; the request is denied.
        assert!(find("s.x", "text").is_err());
    }

    #[test]
    fn truthiness() {
        assert!(!python_truthy(None));
        assert!(!python_truthy(Some(&json!(""))));
        assert!(!python_truthy(Some(&json!(0))));
        assert!(!python_truthy(Some(&json!([]))));
        assert!(python_truthy(Some(&json!("all"))));
        assert!(python_truthy(Some(&json!({"k": 1}))));
    }
}
