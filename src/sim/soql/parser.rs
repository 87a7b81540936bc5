//! Recursive-descent parser for the SOQL subset (see the module docs).

use super::lexer::{lex, Tok, Token};
use super::{
    malformed_at, row_col0, syntax_error, CmpOp, DateLiteral, Expr, LikePattern, LikeTok, Literal,
    Name, OrderItem, Path, Query, SelectItem, SoqlError, SubQuery,
};

/// Parse a SOQL query.
///
/// Errors are `MALFORMED_QUERY` with Salesforce's "unexpected token: 'X'"
/// message (snippet, caret, row and column included), or "SOQL statements
/// cannot be empty or null" for a blank query. Object and field names are
/// checked later, by [`execute`](super::execute), against the [`Source`](super::Source).
pub fn parse(soql: &str) -> Result<Query, SoqlError> {
    if soql.trim().is_empty() {
        return Err(SoqlError {
            code: "MALFORMED_QUERY",
            message: "SOQL statements cannot be empty or null".to_string(),
        });
    }
    let tokens = lex(soql);
    let mut p = Parser {
        text: soql,
        tokens,
        i: 0,
    };
    p.query()
}

struct Parser<'a> {
    text: &'a str,
    tokens: Vec<Token>,
    i: usize,
}

/// Words that end a field list or a condition; they cannot be used as names.
const RESERVED: &[&str] = &[
    "SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "IN", "LIKE", "ORDER", "BY", "LIMIT", "OFFSET",
    "ASC", "DESC", "NULLS", "GROUP", "HAVING", "WITH", "FOR", "USING", "NULL", "TRUE", "FALSE",
    "INCLUDES", "EXCLUDES",
];

impl Parser<'_> {
    fn peek(&self) -> &Token {
        &self.tokens[self.i.min(self.tokens.len() - 1)]
    }

    fn next(&mut self) -> Token {
        let t = self.peek().clone();
        if self.i < self.tokens.len() - 1 {
            self.i += 1;
        }
        t
    }

    /// MALFORMED_QUERY for the token at the cursor.
    fn unexpected(&self) -> SoqlError {
        self.unexpected_token(self.peek())
    }

    fn unexpected_token(&self, t: &Token) -> SoqlError {
        match &t.tok {
            Tok::Eof => malformed_at(self.text, t.start, "<EOF>"),
            // ANTLR's lexer messages, which Salesforce passes through, e.g.
            // "line 1:106 no viable alternative at character ' '"
            // (AllanOricil/SOQL-Editor-Issues#10).
            Tok::BadChar(c) => {
                let (row, col0) = row_col0(self.text, t.start);
                syntax_error(
                    self.text,
                    t.start,
                    &format!("line {row}:{col0} no viable alternative at character '{c}'"),
                )
            }
            Tok::EndInside(expecting) => {
                let end = self.text.len();
                let (row, col0) = row_col0(self.text, end);
                let text = match expecting {
                    Some(c) => {
                        format!("line {row}:{col0} mismatched character '<EOF>' expecting '{c}'")
                    }
                    None => format!("line {row}:{col0} no viable alternative at character '<EOF>'"),
                };
                syntax_error(self.text, end, &text)
            }
            _ => malformed_at(self.text, t.start, &self.text[t.start..t.end]),
        }
    }

    fn is_kw(&self, kw: &str) -> bool {
        matches!(&self.peek().tok, Tok::Ident(s) if s.eq_ignore_ascii_case(kw))
    }

    fn eat_kw(&mut self, kw: &str) -> bool {
        if self.is_kw(kw) {
            self.next();
            true
        } else {
            false
        }
    }

    fn expect_kw(&mut self, kw: &str) -> Result<(), SoqlError> {
        if self.eat_kw(kw) {
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    fn expect(&mut self, tok: Tok) -> Result<Token, SoqlError> {
        if self.peek().tok == tok {
            Ok(self.next())
        } else {
            Err(self.unexpected())
        }
    }

    /// A non-reserved identifier.
    fn name(&mut self) -> Result<Name, SoqlError> {
        match &self.peek().tok {
            Tok::Ident(s) if !is_reserved(s) => {
                let t = self.next();
                let Tok::Ident(text) = t.tok else {
                    unreachable!()
                };
                Ok(Name { text, pos: t.start })
            }
            _ => Err(self.unexpected()),
        }
    }

    /// Any identifier, keywords included, when the position leaves no doubt
    /// (`FROM Order`, `FROM Group`, `Order.OrderNumber`): standard objects
    /// and relationships carry names that are also SOQL keywords.
    fn any_name(&mut self, refused: &[&str]) -> Result<Name, SoqlError> {
        match &self.peek().tok {
            Tok::Ident(s) if !refused.iter().any(|k| k.eq_ignore_ascii_case(s)) => {
                let t = self.next();
                let Tok::Ident(text) = t.tok else {
                    unreachable!()
                };
                Ok(Name { text, pos: t.start })
            }
            _ => Err(self.unexpected()),
        }
    }

    /// The object after FROM: `Order` and `Group` are objects too.
    fn object_name(&mut self) -> Result<Name, SoqlError> {
        let refused: Vec<&str> = RESERVED
            .iter()
            .copied()
            .filter(|k| !matches!(*k, "ORDER" | "GROUP"))
            .collect();
        self.any_name(&refused)
    }

    fn path(&mut self) -> Result<Path, SoqlError> {
        let followed_by_dot = self.tokens.get(self.i + 1).map(|t| &t.tok) == Some(&Tok::Dot);
        let first = if followed_by_dot {
            self.any_name(&[])?
        } else {
            self.name()?
        };
        let pos = first.pos;
        let mut parts = vec![first.text];
        while self.peek().tok == Tok::Dot {
            self.next();
            parts.push(self.any_name(&[])?.text);
        }
        Ok(Path { parts, pos })
    }

    fn query(&mut self) -> Result<Query, SoqlError> {
        self.expect_kw("SELECT")?;
        let select = self.select_list()?;
        self.expect_kw("FROM")?;
        let from = self.object_name()?;
        let filter = self.where_clause()?;
        let mut order_by = Vec::new();
        if self.eat_kw("ORDER") {
            self.expect_kw("BY")?;
            loop {
                order_by.push(self.order_item()?);
                if self.peek().tok == Tok::Comma {
                    self.next();
                } else {
                    break;
                }
            }
        }
        let limit = if self.eat_kw("LIMIT") {
            Some(self.count()?)
        } else {
            None
        };
        let offset = if self.eat_kw("OFFSET") {
            Some(self.count()?)
        } else {
            None
        };
        if self.peek().tok != Tok::Eof {
            return Err(self.unexpected());
        }
        Ok(Query {
            text: self.text.to_string(),
            select,
            from,
            filter,
            order_by,
            limit,
            offset,
        })
    }

    fn select_list(&mut self) -> Result<Vec<SelectItem>, SoqlError> {
        let mut items = Vec::new();
        loop {
            let is_count = self.is_kw("COUNT")
                && self.tokens.get(self.i + 1).map(|t| &t.tok) == Some(&Tok::LParen);
            if is_count {
                let pos = self.next().start;
                self.next(); // (
                if self.peek().tok == Tok::RParen {
                    self.next();
                    // COUNT() stands alone: nothing may precede or follow it.
                    if self.peek().tok == Tok::Comma {
                        return Err(self.unexpected());
                    }
                    if !items.is_empty() {
                        return Err(self.unexpected_token(&self.tokens[self.i - 3]));
                    }
                    items.push(SelectItem::CountAll { pos });
                    return Ok(items);
                }
                let path = self.path()?;
                self.expect(Tok::RParen)?;
                items.push(SelectItem::Count(path));
            } else {
                items.push(SelectItem::Field(self.path()?));
            }
            if self.peek().tok == Tok::Comma {
                self.next();
            } else {
                return Ok(items);
            }
        }
    }

    fn order_item(&mut self) -> Result<OrderItem, SoqlError> {
        let path = self.path()?;
        let desc = if self.eat_kw("DESC") {
            true
        } else {
            self.eat_kw("ASC");
            false
        };
        // Salesforce: ascending sorts nulls first, descending nulls last.
        let mut nulls_first = !desc;
        if self.eat_kw("NULLS") {
            if self.eat_kw("FIRST") {
                nulls_first = true;
            } else if self.eat_kw("LAST") {
                nulls_first = false;
            } else {
                return Err(self.unexpected());
            }
        }
        Ok(OrderItem {
            path,
            desc,
            nulls_first,
        })
    }

    /// A non-negative integer (LIMIT, OFFSET).
    fn count(&mut self) -> Result<usize, SoqlError> {
        let t = self.peek().clone();
        match &t.tok {
            Tok::Number(s) => match s.parse::<usize>() {
                Ok(n) => {
                    self.next();
                    Ok(n)
                }
                Err(_) => Err(self.unexpected()),
            },
            _ => Err(self.unexpected()),
        }
    }

    /// An optional `WHERE condition`.
    fn where_clause(&mut self) -> Result<Option<Expr>, SoqlError> {
        if self.eat_kw("WHERE") {
            Ok(Some(self.condition()?))
        } else {
            Ok(None)
        }
    }

    /// `term (AND term)*` or `term (OR term)*`: SOQL refuses to mix AND and
    /// OR without parentheses ("unexpected token: 'OR'").
    fn condition(&mut self) -> Result<Expr, SoqlError> {
        let first = self.term()?;
        let joiner = if self.is_kw("AND") {
            "AND"
        } else if self.is_kw("OR") {
            "OR"
        } else {
            return Ok(first);
        };
        let mut terms = vec![first];
        while self.eat_kw(joiner) {
            terms.push(self.term()?);
        }
        if self.is_kw("AND") || self.is_kw("OR") {
            return Err(self.unexpected());
        }
        Ok(if joiner == "AND" {
            Expr::And(terms)
        } else {
            Expr::Or(terms)
        })
    }

    fn term(&mut self) -> Result<Expr, SoqlError> {
        if self.eat_kw("NOT") {
            return Ok(Expr::Not(Box::new(self.term()?)));
        }
        if self.peek().tok == Tok::LParen {
            self.next();
            let e = self.condition()?;
            self.expect(Tok::RParen)?;
            return Ok(e);
        }
        let path = self.path()?;
        if let Tok::Op(op) = self.peek().tok {
            self.next();
            let op = match op {
                "=" => CmpOp::Eq,
                "!=" | "<>" => CmpOp::Ne,
                "<" => CmpOp::Lt,
                "<=" => CmpOp::Le,
                ">" => CmpOp::Gt,
                _ => CmpOp::Ge,
            };
            let value = self.literal()?;
            return Ok(Expr::Cmp { path, op, value });
        }
        if self.is_kw("LIKE") {
            self.next();
            let t = self.peek().clone();
            let Tok::Str(raw) = &t.tok else {
                return Err(self.unexpected());
            };
            let pattern = like_pattern(raw).ok_or_else(|| self.unexpected())?;
            self.next();
            return Ok(Expr::Like { path, pattern });
        }
        let negated = self.eat_kw("NOT");
        if self.eat_kw("IN") {
            self.expect(Tok::LParen)?;
            if self.eat_kw("SELECT") {
                // Semi-join / anti-join: `Id IN (SELECT AssigneeId FROM ...)`.
                let field = self.path()?;
                self.expect_kw("FROM")?;
                let from = self.object_name()?;
                let filter = self.where_clause()?;
                self.expect(Tok::RParen)?;
                return Ok(Expr::InQuery {
                    path,
                    negated,
                    sub: Box::new(SubQuery {
                        field,
                        from,
                        filter,
                    }),
                });
            }
            let mut values = vec![self.literal()?];
            while self.peek().tok == Tok::Comma {
                self.next();
                values.push(self.literal()?);
            }
            self.expect(Tok::RParen)?;
            return Ok(Expr::In {
                path,
                negated,
                values,
            });
        }
        Err(self.unexpected())
    }

    fn literal(&mut self) -> Result<Literal, SoqlError> {
        let t = self.peek().clone();
        let lit = match &t.tok {
            Tok::Str(raw) => Literal::Str(unescape(raw).ok_or_else(|| self.unexpected())?),
            Tok::Number(s) => Literal::Number(s.parse::<f64>().map_err(|_| self.unexpected())?),
            Tok::Date(d) => Literal::Date(*d),
            Tok::DateTime(d) => Literal::DateTime(*d),
            Tok::Ident(s) if s.eq_ignore_ascii_case("null") => Literal::Null,
            Tok::Ident(s) if s.eq_ignore_ascii_case("true") => Literal::Bool(true),
            Tok::Ident(s) if s.eq_ignore_ascii_case("false") => Literal::Bool(false),
            Tok::Ident(s) => {
                let upper = s.to_ascii_uppercase();
                if let Some(d) = fixed_date_literal(&upper) {
                    Literal::Relative(d)
                } else if let Some(make) = n_date_literal(&upper) {
                    self.next();
                    self.expect(Tok::Colon)?;
                    let nt = self.peek().clone();
                    let n = match &nt.tok {
                        Tok::Number(n) => n.parse::<u32>().map_err(|_| self.unexpected())?,
                        _ => return Err(self.unexpected()),
                    };
                    self.next();
                    return Ok(Literal::Relative(make(n)));
                } else {
                    return Err(self.unexpected());
                }
            }
            _ => return Err(self.unexpected()),
        };
        self.next();
        Ok(lit)
    }
}

fn is_reserved(s: &str) -> bool {
    RESERVED.iter().any(|k| k.eq_ignore_ascii_case(s))
}

fn fixed_date_literal(upper: &str) -> Option<DateLiteral> {
    use DateLiteral::*;
    Some(match upper {
        "YESTERDAY" => Yesterday,
        "TODAY" => Today,
        "TOMORROW" => Tomorrow,
        "LAST_WEEK" => LastWeek,
        "THIS_WEEK" => ThisWeek,
        "NEXT_WEEK" => NextWeek,
        "LAST_MONTH" => LastMonth,
        "THIS_MONTH" => ThisMonth,
        "NEXT_MONTH" => NextMonth,
        "LAST_90_DAYS" => Last90Days,
        "NEXT_90_DAYS" => Next90Days,
        "THIS_QUARTER" | "THIS_FISCAL_QUARTER" => ThisQuarter,
        "LAST_QUARTER" | "LAST_FISCAL_QUARTER" => LastQuarter,
        "NEXT_QUARTER" | "NEXT_FISCAL_QUARTER" => NextQuarter,
        "THIS_YEAR" | "THIS_FISCAL_YEAR" => ThisYear,
        "LAST_YEAR" | "LAST_FISCAL_YEAR" => LastYear,
        "NEXT_YEAR" | "NEXT_FISCAL_YEAR" => NextYear,
        _ => return None,
    })
}

fn n_date_literal(upper: &str) -> Option<fn(u32) -> DateLiteral> {
    use DateLiteral::*;
    Some(match upper {
        "LAST_N_DAYS" => LastNDays,
        "NEXT_N_DAYS" => NextNDays,
        "N_DAYS_AGO" => NDaysAgo,
        "LAST_N_WEEKS" => LastNWeeks,
        "NEXT_N_WEEKS" => NextNWeeks,
        "N_WEEKS_AGO" => NWeeksAgo,
        "LAST_N_MONTHS" => LastNMonths,
        "NEXT_N_MONTHS" => NextNMonths,
        "N_MONTHS_AGO" => NMonthsAgo,
        "LAST_N_QUARTERS" | "LAST_N_FISCAL_QUARTERS" => LastNQuarters,
        "NEXT_N_QUARTERS" | "NEXT_N_FISCAL_QUARTERS" => NextNQuarters,
        "N_QUARTERS_AGO" | "N_FISCAL_QUARTERS_AGO" => NQuartersAgo,
        "LAST_N_YEARS" | "LAST_N_FISCAL_YEARS" => LastNYears,
        "NEXT_N_YEARS" | "NEXT_N_FISCAL_YEARS" => NextNYears,
        "N_YEARS_AGO" | "N_FISCAL_YEARS_AGO" => NYearsAgo,
        _ => return None,
    })
}

/// Decode a string literal body: `\'`, `\"`, `\\`, `\n`, `\r`, `\t`, `\b`,
/// `\f` and `\uXXXX` (SOQL "Quoted String Escape Sequences"); `\%` and `\_`
/// keep their backslash outside LIKE. Any other escape is invalid.
fn unescape(raw: &str) -> Option<String> {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next()? {
            'n' | 'N' => out.push('\n'),
            'r' | 'R' => out.push('\r'),
            't' | 'T' => out.push('\t'),
            'b' | 'B' => out.push('\u{8}'),
            'f' | 'F' => out.push('\u{c}'),
            '"' => out.push('"'),
            '\'' => out.push('\''),
            '\\' => out.push('\\'),
            '%' => out.push_str("\\%"),
            '_' => out.push_str("\\_"),
            'u' | 'U' => {
                let hex: String = chars.by_ref().take(4).collect();
                let code = u32::from_str_radix(&hex, 16).ok()?;
                out.push(char::from_u32(code)?);
            }
            _ => return None,
        }
    }
    Some(out)
}

/// Compile a LIKE pattern body: `%` any run, `_` one character, `\%` and
/// `\_` literal, other escapes as in [`unescape`]. Lower-cased for the
/// case-insensitive match.
fn like_pattern(raw: &str) -> Option<LikePattern> {
    let mut toks = Vec::new();
    let mut chars = raw.chars();
    let push_lit = |toks: &mut Vec<LikeTok>, c: char| {
        toks.extend(c.to_lowercase().map(LikeTok::Char));
    };
    while let Some(c) = chars.next() {
        match c {
            '%' => {
                if toks.last() != Some(&LikeTok::Any) {
                    toks.push(LikeTok::Any);
                }
            }
            '_' => toks.push(LikeTok::One),
            '\\' => {
                let e = chars.next()?;
                let lit = match e {
                    '%' | '_' | '\'' | '"' | '\\' => e,
                    'n' | 'N' => '\n',
                    'r' | 'R' => '\r',
                    't' | 'T' => '\t',
                    'b' | 'B' => '\u{8}',
                    'f' | 'F' => '\u{c}',
                    'u' | 'U' => {
                        let hex: String = chars.by_ref().take(4).collect();
                        char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?
                    }
                    _ => return None,
                };
                push_lit(&mut toks, lit);
            }
            c => push_lit(&mut toks, c),
        }
    }
    Some(LikePattern(toks))
}
