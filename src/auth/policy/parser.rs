//! The oslo.policy rule language, parsed into a [`Check`] tree.
//!
//! Follows oslo.policy's `_parser.py` step by step — whitespace tokenizer,
//! parentheses peeled off token ends, greedy shift-reduce — so a rule means
//! the same here as in Ironic, including precedence (`not` > `and` > `or`).
//! Where oslo would log and fail closed at request time (unparsable rule,
//! check without a kind, `http:` check) this parser returns an error, so a bad
//! policy file stops the service at start instead.

use super::check::{Check, Subject, Template};

/// Parses a rule written in the policy language; `""` means always allowed.
pub(crate) fn parse_text_rule(rule: &str) -> Result<Check, String> {
    if rule.is_empty() {
        return Ok(Check::Always);
    }
    let mut stack = Vec::new();
    for token in tokenize(rule)? {
        stack.push(token);
        while reduce(&mut stack) {}
    }
    let mut tokens = stack.into_iter();
    match (tokens.next(), tokens.next()) {
        (Some(token), None) => match token.into_check() {
            Ok(check) => Ok(check),
            Err(token) => Err(unparsable(rule, &[token])),
        },
        (first, second) => {
            let rest: Vec<Token> = first.into_iter().chain(second).chain(tokens).collect();
            Err(unparsable(rule, &rest))
        }
    }
}

fn unparsable(rule: &str, leftover: &[Token]) -> String {
    if leftover.iter().any(|t| matches!(t, Token::Quoted)) {
        format!(
            "could not parse rule '{rule}': a quoted string is only allowed as the \
             left side of a check ('value':%(key)s)"
        )
    } else {
        format!("could not parse rule '{rule}': unbalanced parentheses or a missing operand")
    }
}

/// Parses oslo's legacy list syntax: the outer list is joined by `or`, each
/// inner list by `and`, and every item is a single check (no operators).
pub(crate) fn parse_list_rule(rule: &[Vec<String>]) -> Result<Check, String> {
    if rule.is_empty() {
        return Ok(Check::Always);
    }
    let mut alternatives = Vec::new();
    for inner in rule.iter().filter(|inner| !inner.is_empty()) {
        let mut checks = inner
            .iter()
            .map(|item| parse_check(item))
            .collect::<Result<Vec<_>, _>>()?;
        alternatives.push(if checks.len() == 1 {
            checks.remove(0)
        } else {
            Check::And(checks)
        });
    }
    Ok(match alternatives.len() {
        0 => Check::Never,
        1 => alternatives.remove(0),
        _ => Check::Or(alternatives),
    })
}

/// Parses one check: `@`, `!`, `rule:x`, `role:x` or a generic `kind:match`.
pub(crate) fn parse_check(token: &str) -> Result<Check, String> {
    match token {
        "!" => return Ok(Check::Never),
        "@" => return Ok(Check::Always),
        _ => {}
    }
    let Some((kind, matched)) = token.split_once(':') else {
        return Err(format!(
            "'{token}' is not a check: expected kind:match, '@' or '!'"
        ));
    };
    match kind {
        "rule" => Ok(Check::Rule(matched.to_string())),
        "role" => Ok(Check::Role(Template::parse(matched)?)),
        "http" | "https" => Err(format!(
            "'{token}': {kind}: checks (a remote policy server) are not supported by Berth"
        )),
        _ => Ok(Check::Generic {
            kind: kind.to_string(),
            subject: Subject::from_kind(kind)?,
            value: Template::parse(matched)?,
        }),
    }
}

#[derive(Debug)]
enum Token {
    LeftParen,
    RightParen,
    And,
    Or,
    Not,
    /// A whole token in quotes; oslo never reduces it, so it ends in an error.
    Quoted,
    Check(Check),
    AndExpr(Vec<Check>),
    OrExpr(Vec<Check>),
}

impl Token {
    /// The check a reduced token stands for; other tokens are handed back.
    fn into_check(self) -> Result<Check, Token> {
        match self {
            Token::Check(check) => Ok(check),
            Token::AndExpr(checks) => Ok(Check::And(checks)),
            Token::OrExpr(checks) => Ok(Check::Or(checks)),
            other => Err(other),
        }
    }
}

/// Splits on whitespace, then peels leading `(` and trailing `)` off each
/// piece: parentheses inside a check (`%(node.owner)s`) are never at either end.
fn tokenize(rule: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    for piece in rule.split_whitespace() {
        let clean = piece.trim_start_matches('(');
        tokens.extend((0..piece.len() - clean.len()).map(|_| Token::LeftParen));
        if clean.is_empty() {
            continue;
        }
        let piece = clean;
        let clean = piece.trim_end_matches(')');
        match clean.to_lowercase().as_str() {
            "and" => tokens.push(Token::And),
            "or" => tokens.push(Token::Or),
            "not" => tokens.push(Token::Not),
            _ if clean.is_empty() => {}
            // oslo tests the quotes on the piece before stripping `)`.
            _ if is_quoted(piece) => tokens.push(Token::Quoted),
            _ => tokens.push(Token::Check(parse_check(clean)?)),
        }
        tokens.extend((0..piece.len() - clean.len()).map(|_| Token::RightParen));
    }
    Ok(tokens)
}

fn is_quoted(piece: &str) -> bool {
    piece.len() >= 2
        && ((piece.starts_with('"') && piece.ends_with('"'))
            || (piece.starts_with('\'') && piece.ends_with('\'')))
}

/// One greedy reduction at the top of the stack, in oslo's order; returns
/// whether anything changed.
fn reduce(stack: &mut Vec<Token>) -> bool {
    if stack.len() >= 3 {
        let (c, b, a) = match (stack.pop(), stack.pop(), stack.pop()) {
            (Some(c), Some(b), Some(a)) => (c, b, a),
            _ => return false,
        };
        let reduced = match (a, b, c) {
            (Token::LeftParen, Token::Check(inner), Token::RightParen) => Token::Check(inner),
            (Token::LeftParen, Token::AndExpr(checks), Token::RightParen) => {
                Token::Check(Check::And(checks))
            }
            (Token::LeftParen, Token::OrExpr(checks), Token::RightParen) => {
                Token::Check(Check::Or(checks))
            }
            (Token::Check(a), Token::And, Token::Check(c)) => Token::AndExpr(vec![a, c]),
            (Token::AndExpr(mut checks), Token::And, Token::Check(c)) => {
                checks.push(c);
                Token::AndExpr(checks)
            }
            // `a or b and c`: `and` binds tighter, so it takes `b` back.
            (Token::OrExpr(mut checks), Token::And, Token::Check(c)) => {
                let joined = match checks.pop() {
                    Some(Check::And(mut inner)) => {
                        inner.push(c);
                        Check::And(inner)
                    }
                    Some(last) => Check::And(vec![last, c]),
                    None => c,
                };
                checks.push(joined);
                Token::OrExpr(checks)
            }
            (Token::Check(a), Token::Or, Token::Check(c)) => Token::OrExpr(vec![a, c]),
            (Token::AndExpr(a), Token::Or, Token::Check(c)) => {
                Token::OrExpr(vec![Check::And(a), c])
            }
            (Token::OrExpr(mut checks), Token::Or, Token::Check(c)) => {
                checks.push(c);
                Token::OrExpr(checks)
            }
            (a, b, c) => {
                stack.extend([a, b, c]);
                return reduce_not(stack);
            }
        };
        stack.push(reduced);
        return true;
    }
    reduce_not(stack)
}

/// `not <check>`, tried only when no three-token reduction applies.
fn reduce_not(stack: &mut Vec<Token>) -> bool {
    if !matches!(stack.as_slice(), [.., Token::Not, Token::Check(_)]) {
        return false;
    }
    match (stack.pop(), stack.pop()) {
        (Some(Token::Check(check)), Some(Token::Not)) => {
            stack.push(Token::Check(Check::Not(Box::new(check))));
            true
        }
        _ => false,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn parsed(rule: &str) -> String {
        parse_text_rule(rule).unwrap().to_string()
    }

    fn error(rule: &str) -> String {
        parse_text_rule(rule).unwrap_err()
    }

    #[test]
    fn special_checks_and_empty_rule() {
        assert_eq!(parse_text_rule("").unwrap(), Check::Always);
        assert_eq!(parse_text_rule("@").unwrap(), Check::Always);
        assert_eq!(parse_text_rule("!").unwrap(), Check::Never);
        assert_eq!(parsed("not @"), "not @");
    }

    #[test]
    fn check_kinds() {
        assert_eq!(
            parse_text_rule("rule:a:b").unwrap(),
            Check::Rule("a:b".into())
        );
        assert!(matches!(
            parse_text_rule("role:admin").unwrap(),
            Check::Role(_)
        ));
        assert!(matches!(
            parse_text_rule("project_id:%(node.owner)s").unwrap(),
            Check::Generic {
                subject: Subject::Path(_),
                ..
            }
        ));
        assert!(matches!(
            parse_text_rule("'x':%(name)s").unwrap(),
            Check::Generic {
                subject: Subject::Literal(_),
                ..
            }
        ));
        // The right side keeps quotes verbatim, as in oslo.
        assert_eq!(parsed("project_id:'abc'"), "project_id:'abc'");
    }

    #[test]
    fn precedence_matches_oslo() {
        assert_eq!(parsed("a:1 and b:2"), "(a:1 and b:2)");
        assert_eq!(parsed("a:1 or b:2"), "(a:1 or b:2)");
        assert_eq!(parsed("a:1 or b:2 and c:3"), "(a:1 or (b:2 and c:3))");
        assert_eq!(parsed("a:1 and b:2 or c:3"), "((a:1 and b:2) or c:3)");
        assert_eq!(
            parsed("a:1 and b:2 or c:3 and d:4"),
            "((a:1 and b:2) or (c:3 and d:4))"
        );
        assert_eq!(
            parsed("a:1 or b:2 and c:3 and d:4 or e:5"),
            "(a:1 or (b:2 and c:3 and d:4) or e:5)"
        );
        assert_eq!(parsed("not a:1 and b:2"), "(not a:1 and b:2)");
        assert_eq!(
            parsed("a:1 or not b:2 and c:3"),
            "(a:1 or (not b:2 and c:3))"
        );
        assert_eq!(parsed("not not a:1"), "not not a:1");
    }

    #[test]
    fn parentheses_and_keywords() {
        assert_eq!(parsed("(a:1 or b:2) and c:3"), "((a:1 or b:2) and c:3)");
        assert_eq!(parsed("not (a:1 and b:2)"), "not (a:1 and b:2)");
        assert_eq!(parsed("((a:1))"), "a:1");
        assert_eq!(
            parsed("(role:admin and project_id:%(node.owner)s)"),
            "(role:admin and project_id:%(node.owner)s)"
        );
        // Keywords are case-insensitive, as oslo lowercases them.
        assert_eq!(
            parsed("a:1 AND b:2 Or NOT c:3"),
            "((a:1 and b:2) or not c:3)"
        );
        assert_eq!(parsed("  a:1\tand\n b:2 "), "(a:1 and b:2)");
    }

    #[test]
    fn malformed_rules_are_errors() {
        for rule in [
            "a:1 b:2",
            "a:1 and",
            "and a:1",
            "or",
            "(a:1",
            "a:1)",
            "()",
            "not",
            "   ",
            "a:1 or or b:2",
        ] {
            assert!(parse_text_rule(rule).is_err(), "{rule:?} should not parse");
        }
        assert!(error("admin").contains("not a check"));
        assert!(error("role:a and admin").contains("'admin' is not a check"));
        assert!(error("'quoted'").contains("quoted string"));
        assert!(error("role:50%").contains("%%"));
    }

    #[test]
    fn http_checks_are_refused() {
        assert!(error("http://policy.example.com/%(x)s").contains("not supported"));
        assert!(error("role:a or https:x").contains("not supported"));
    }

    #[test]
    fn list_rules() {
        let list = |v: &[&[&str]]| -> Vec<Vec<String>> {
            v.iter()
                .map(|inner| inner.iter().map(|s| s.to_string()).collect())
                .collect()
        };
        assert_eq!(parse_list_rule(&[]).unwrap(), Check::Always);
        assert_eq!(parse_list_rule(&list(&[&[]])).unwrap(), Check::Never);
        assert_eq!(
            parse_list_rule(&list(&[&["role:a", "p:1"], &["rule:x"]]))
                .unwrap()
                .to_string(),
            "((role:a and p:1) or rule:x)"
        );
        assert!(parse_list_rule(&list(&[&["nocolon"]])).is_err());
    }
}
