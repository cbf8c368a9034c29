//! The page in French or English: which language a request gets, every string of the pages in
//! both, and numbers and dates written the way each language writes them.
//!
//! The language is, in order: the voter's choice (the switch's `?lang=` link, then kept in a
//! `lang` cookie), the operator's (`UI_LANGUAGE`), the browser's (`Accept-Language`, French when
//! preferred), English. The [`ChooseLanguage`] layer works it out once per request and puts it in
//! the request's extensions, where handlers and the error page find it. The JSON API and the
//! logs stay in English; choices are shown as configured.

use std::task::{Context, Poll};

use axum::extract::Request;
use axum::http::header::{ACCEPT_LANGUAGE, COOKIE, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::Response;
use futures_util::future::{BoxFuture, Either};
use tower::{Layer, Service};

/// A language the pages are written in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Lang {
    /// English, the default.
    #[default]
    En,
    /// French.
    Fr,
}

/// How long the switch's choice is kept: a year.
const COOKIE_MAX_AGE: u32 = 365 * 24 * 3600;

impl Lang {
    /// A language tag or locale (`fr`, `fr-CA`, `fr_FR.UTF-8`, `EN`), if it is one of ours.
    pub fn parse(tag: &str) -> Option<Self> {
        let primary = tag.trim().split(['-', '_', '.']).next().unwrap_or_default();
        match primary.to_ascii_lowercase().as_str() {
            "en" => Some(Self::En),
            "fr" => Some(Self::Fr),
            _ => None,
        }
    }

    /// The language an `Accept-Language` header prefers among ours: the highest `q`, the first
    /// listed on a tie; `None` when it names neither.
    pub fn from_accept_language(header: &str) -> Option<Self> {
        let weighted = header.split(',').filter_map(|item| {
            let mut parts = item.split(';');
            let lang = Self::parse(parts.next()?)?;
            let q = parts
                .find_map(|param| param.trim().strip_prefix("q="))
                .map_or(Some(1.0), |q| q.trim().parse::<f32>().ok())?;
            (q > 0.0).then_some((lang, q))
        });
        let best = weighted.fold(None, |best: Option<(Self, f32)>, (lang, q)| match best {
            Some((_, best_q)) if best_q >= q => best,
            _ => Some((lang, q)),
        });
        best.map(|(lang, _)| lang)
    }

    /// The code for `<html lang>` and the switch's links.
    pub fn code(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Fr => "fr",
        }
    }

    /// The other language, which the switch offers.
    pub fn other(self) -> Self {
        match self {
            Self::En => Self::Fr,
            Self::Fr => Self::En,
        }
    }

    /// Every fixed string of the pages, in this language.
    pub fn texts(self) -> &'static Texts {
        match self {
            Self::En => &EN,
            Self::Fr => &FR,
        }
    }

    /// A count: `12,345` in English, `12 345` (narrow no-break space) in French.
    pub fn number(self, value: u64) -> String {
        let separator = match self {
            Self::En => ",",
            Self::Fr => "\u{202f}",
        };
        let digits = value.to_string();
        let mut grouped = String::with_capacity(digits.len() + digits.len() / 3 * 3);
        for (index, digit) in digits.chars().enumerate() {
            if index > 0 && (digits.len() - index).is_multiple_of(3) {
                grouped.push_str(separator);
            }
            grouped.push(digit);
        }
        grouped
    }

    /// A share: `67%` in English, `67 %` in French.
    pub fn percent(self, value: u64) -> String {
        match self {
            Self::En => format!("{value}%"),
            Self::Fr => format!("{value}\u{202f}%"),
        }
    }

    /// `N votes` / `N votes`, singular for one (and for zero in French).
    pub fn votes(self, count: u64) -> String {
        let plural = match self {
            Self::En => count != 1,
            Self::Fr => count > 1,
        };
        format!("{} vote{}", self.number(count), if plural { "s" } else { "" })
    }

    /// A UTC minute as the ledger gives it (`2026-12-01T10:07:00Z`): `1 Dec 2026, 10:07` or
    /// `1 déc. 2026, 10:07`; anything else is shown as given.
    pub fn minute(self, minute: &str) -> String {
        let parsed = (|| {
            let (date, time) = minute.split_once('T')?;
            let mut date = date.splitn(3, '-');
            let (year, month, day) = (date.next()?, date.next()?, date.next()?);
            let month: usize = month.parse().ok()?;
            let day: u32 = day.parse().ok()?;
            let name = self.texts().months.get(month.checked_sub(1)?)?;
            Some(format!("{day} {name} {year}, {}", time.get(..5)?))
        })();
        parsed.unwrap_or_else(|| minute.to_owned())
    }

    /// `45 min ago` / `il y a 45 min`.
    pub fn minutes_ago(self, minutes: u32) -> String {
        match self {
            Self::En => format!("{minutes} min ago"),
            Self::Fr => format!("il y a {minutes} min"),
        }
    }

    /// The `Set-Cookie` value that keeps this language for the voter's next visits.
    fn cookie(self) -> HeaderValue {
        let cookie =
            format!("lang={}; Path=/; Max-Age={COOKIE_MAX_AGE}; SameSite=Lax", self.code());
        HeaderValue::from_str(&cookie).unwrap_or(HeaderValue::from_static("lang=en; Path=/"))
    }
}

/// The language of a request: the switch's `?lang=` first, then the `lang` cookie, then the
/// operator's `configured` language, then `Accept-Language`, then English. Also says whether it
/// came from the switch, so the answer can set the cookie.
pub fn negotiate(
    query: Option<&str>,
    headers: &HeaderMap,
    configured: Option<Lang>,
) -> (Lang, bool) {
    let switched = query.and_then(|query| {
        query.split('&').find_map(|pair| pair.strip_prefix("lang=")).and_then(Lang::parse)
    });
    if let Some(lang) = switched {
        return (lang, true);
    }
    let cookie = headers.get_all(COOKIE).iter().filter_map(|value| value.to_str().ok());
    let cookie = cookie
        .flat_map(|value| value.split(';'))
        .find_map(|pair| pair.trim().strip_prefix("lang="))
        .and_then(Lang::parse);
    let accepted = || {
        let header = headers.get(ACCEPT_LANGUAGE).and_then(|value| value.to_str().ok());
        header.and_then(Lang::from_accept_language)
    };
    (cookie.or(configured).or_else(accepted).unwrap_or_default(), false)
}

/// Adds [`ChooseLanguage`] around a service; `configured` is the operator's `UI_LANGUAGE`.
#[derive(Debug, Clone, Copy)]
pub struct ChooseLanguageLayer {
    pub configured: Option<Lang>,
}

impl<S> Layer<S> for ChooseLanguageLayer {
    type Service = ChooseLanguage<S>;

    fn layer(&self, inner: S) -> ChooseLanguage<S> {
        ChooseLanguage { inner, configured: self.configured }
    }
}

/// Puts the request's [`Lang`] in its extensions, and keeps a switched language in a cookie.
/// Only a switch, whose answer must set the cookie, costs a boxed future.
#[derive(Debug, Clone)]
pub struct ChooseLanguage<S> {
    inner: S,
    configured: Option<Lang>,
}

impl<S> Service<Request> for ChooseLanguage<S>
where
    S: Service<Request, Response = Response>,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = S::Error;
    /// The service's own answer, or (after a switch) that answer with the cookie.
    type Future = Either<S::Future, BoxFuture<'static, Result<Response, S::Error>>>;

    fn poll_ready(&mut self, context: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(context)
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        let (lang, switched) = negotiate(request.uri().query(), request.headers(), self.configured);
        request.extensions_mut().insert(lang);
        let response = self.inner.call(request);
        if !switched {
            return Either::Left(response);
        }
        Either::Right(Box::pin(async move {
            let mut response = response.await?;
            response.headers_mut().append(SET_COOKIE, lang.cookie());
            Ok(response)
        }))
    }
}

/// The pages' fixed strings in one language, each field named after what it says.
#[allow(missing_docs)]
#[derive(Debug)]
pub struct Texts {
    pub vote_for: &'static str,
    pub results: &'static str,
    pub in_all: &'static str,
    pub unavailable: &'static str,
    pub admin: &'static str,
    pub admin_token: &'static str,
    pub reset_all: &'static str,
    pub thanks: &'static str,
    pub counted: &'static str,
    pub reset_done: &'static str,
    pub served_by: &'static str,
    pub version: &'static str,
    pub pages: &'static str,
    pub vote_page: &'static str,
    pub results_page: &'static str,
    pub switch_label: &'static str,
    pub switch_to: &'static str,
    pub per_minute_title: &'static str,
    pub per_minute_heading: &'static str,
    pub chart_intro: &'static str,
    pub chart_title: &'static str,
    pub table_caption: &'static str,
    pub minute_utc: &'static str,
    pub instance: &'static str,
    pub votes: &'static str,
    pub on: &'static str,
    pub y_axis: &'static str,
    pub now: &'static str,
    pub even_minute: &'static str,
    pub odd_minute: &'static str,
    pub in_last_hour: &'static str,
    pub no_ledger: &'static str,
    pub ledger_unavailable: &'static str,
    pub back_to_vote: &'static str,
    pub error: &'static str,
    pub error_unknown_choice: &'static str,
    pub error_bad_body: &'static str,
    pub error_unauthorized: &'static str,
    pub error_forbidden: &'static str,
    pub error_cross_origin: &'static str,
    pub error_no_ledger: &'static str,
    pub months: [&'static str; 12],
}

static EN: Texts = Texts {
    vote_for: "Vote for",
    results: "Results",
    in_all: "in all.",
    unavailable: "Votes are unavailable right now. Please try again in a moment.",
    admin: "Admin",
    admin_token: "Admin token",
    reset_all: "Reset all votes",
    thanks: "Thank you! Your vote for",
    counted: "was counted.",
    reset_done: "All votes were reset.",
    served_by: "Served by",
    version: "version",
    pages: "Pages",
    vote_page: "Vote",
    results_page: "Votes per minute",
    switch_label: "Language",
    switch_to: "Français",
    per_minute_title: "Votes per minute",
    per_minute_heading: "Votes per minute, last hour",
    chart_intro: "Each bar is one UTC minute, coloured by the instance that took its votes. \
                  Behind the minute-parity router, instances alternate minute by minute.",
    chart_title: "Votes per minute per instance over the last hour, oldest on the left",
    table_caption: "Votes per minute per instance",
    minute_utc: "Minute (UTC)",
    instance: "Instance",
    votes: "Votes",
    on: "on",
    y_axis: "Votes per minute, logarithmic scale: each line is ten times the one below.",
    now: "now",
    even_minute: "even minute",
    odd_minute: "odd minute",
    in_last_hour: "in the last hour",
    no_ledger: "This view needs the PostgreSQL ledger: set DATABASE_URL to turn it on.",
    ledger_unavailable: "The ledger is unavailable right now. Please try again in a moment.",
    back_to_vote: "Back to the vote",
    error: "Error",
    error_unknown_choice: "Unknown choice: only the configured choices can be voted for.",
    error_bad_body: "The form could not be read.",
    error_unauthorized: "An admin token is required.",
    error_forbidden: "The admin token is not valid.",
    error_cross_origin: "Votes sent from another site are refused.",
    error_no_ledger: "The ledger is not configured on this instance.",
    months: ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
};

static FR: Texts = Texts {
    vote_for: "Voter pour",
    results: "Résultats",
    in_all: "au total.",
    unavailable: "Le vote est indisponible pour le moment. Réessayez dans un instant.",
    admin: "Administration",
    admin_token: "Jeton d’administration",
    reset_all: "Remettre tous les votes à zéro",
    thanks: "Merci\u{202f}! Votre vote pour",
    counted: "a été compté.",
    reset_done: "Tous les votes ont été remis à zéro.",
    served_by: "Servi par",
    version: "version",
    pages: "Pages",
    vote_page: "Voter",
    results_page: "Votes par minute",
    switch_label: "Langue",
    switch_to: "English",
    per_minute_title: "Votes par minute",
    per_minute_heading: "Votes par minute, dernière heure",
    chart_intro: "Chaque barre est une minute UTC, colorée selon l’instance qui a reçu ses votes. \
                  Derrière le routeur par parité de minute, les instances alternent d’une minute \
                  à l’autre.",
    chart_title: "Votes par minute et par instance sur la dernière heure, la plus ancienne à gauche",
    table_caption: "Votes par minute et par instance",
    minute_utc: "Minute (UTC)",
    instance: "Instance",
    votes: "Votes",
    on: "sur",
    y_axis: "Votes par minute, échelle logarithmique\u{202f}: chaque ligne vaut dix fois celle du dessous.",
    now: "maintenant",
    even_minute: "minute paire",
    odd_minute: "minute impaire",
    in_last_hour: "dans la dernière heure",
    no_ledger: "Cette vue a besoin du registre PostgreSQL\u{202f}: définissez DATABASE_URL pour l’activer.",
    ledger_unavailable: "Le registre est indisponible pour le moment. Réessayez dans un instant.",
    back_to_vote: "Retour au vote",
    error: "Erreur",
    error_unknown_choice: "Choix inconnu\u{202f}: seuls les choix configurés peuvent recevoir un vote.",
    error_bad_body: "Le formulaire n’a pas pu être lu.",
    error_unauthorized: "Un jeton d’administration est nécessaire.",
    error_forbidden: "Le jeton d’administration n’est pas valide.",
    error_cross_origin: "Les votes envoyés depuis un autre site sont refusés.",
    error_no_ledger: "Le registre n’est pas configuré sur cette instance.",
    months: [
        "janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.",
        "déc.",
    ],
};

#[cfg(test)]
mod tests;
