//! The web console at `/ui`: a single-page app (built from `console/` into
//! `runtime/console-dist/`, embedded here) that uses nothing but the public
//! REST API, through relative URLs, so any worker of a cluster serves it.
//!
//! * `/ui` redirects to `/ui/` (the app's relative URLs resolve against
//!   that directory);
//! * `/ui/app.js` and `/ui/app.css` are the built assets;
//! * any other path under `/ui/` without a file extension is a route of the
//!   app (`/ui/connectors/my-sink`): it gets `index.html`, whose
//!   `<base href>` is rewritten to lead back to `/ui/` relatively, so the
//!   console also works behind a proxy that mounts the worker under a
//!   prefix.
//!
//! These routes sit outside the API's router on purpose, wrapped around it
//! by [`with_console`]: the API trims trailing slashes before routing, which
//! would turn the `/ui` → `/ui/` redirect into a loop, and with
//! `rest.auth.protect.reads=true` the API refuses reads without
//! credentials, which would make the browser show its own password dialog
//! for static files that hold no data. The console asks for credentials
//! itself on the API's first 401.
//!
//! Every response is `Cache-Control: no-cache` with an `ETag`: the asset
//! names carry no hash, so a browser must revalidate (a cheap 304) to pick
//! up a new worker's console.
//!
//! `WASMCONNECT_CONSOLE_DIR`, when set, serves the same three files from
//! that directory, read at each request: for working on the console
//! without rebuilding the worker (`npm run build -- --watch` in `console/`).

use std::convert::Infallible;
use std::sync::OnceLock;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sha2::{Digest, Sha256};
use tower::Service;

/// The built assets, `(file name, content type, bytes)`.
const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "index.html",
        "text/html; charset=utf-8",
        include_bytes!("../../console-dist/index.html"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../console-dist/app.js"),
    ),
    (
        "app.css",
        "text/css; charset=utf-8",
        include_bytes!("../../console-dist/app.css"),
    ),
];

/// What `index.html` holds where the per-route base goes.
const BASE_PLACEHOLDER: &str = "<base href=\"./\">";

/// The app may only load its own files and talk to its own origin; inline
/// SVG charts are DOM nodes, so nothing needs `unsafe-inline`.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; base-uri 'self'; form-action 'none'; frame-ancestors 'none'";

/// `api` with the console's routes in front of it.
pub fn with_console<S>(api: S) -> Router
where
    S: Service<Request, Error = Infallible> + Clone + Send + Sync + 'static,
    S::Response: IntoResponse,
    S::Future: Send + 'static,
{
    Router::new()
        .route("/ui", get(redirect))
        .route(
            "/ui/",
            get(|headers: HeaderMap| async move { app(&headers, "") }),
        )
        .route(
            "/ui/{*path}",
            // The raw (still percent-encoded) path, not the decoded one:
            // `connectors/a%2Fb` is one level deep for the browser, and the
            // base must count the levels the browser counts.
            get(|headers: HeaderMap, uri: Uri| async move {
                app(
                    &headers,
                    uri.path().strip_prefix("/ui/").unwrap_or_default(),
                )
            }),
        )
        .fallback_service(api)
}

/// `/ui` → `/ui/`, relative so that a path prefix in front survives.
async fn redirect() -> Response {
    (
        StatusCode::PERMANENT_REDIRECT,
        [(header::LOCATION, HeaderValue::from_static("ui/"))],
    )
        .into_response()
}

/// The asset or app route at `path` (beneath `/ui/`).
fn app(headers: &HeaderMap, path: &str) -> Response {
    let path = if path == "index.html" { "" } else { path };
    if let Some((name, kind, bytes)) = ASSETS.iter().find(|(name, _, _)| *name == path)
        && *name != "index.html"
    {
        return serve(headers, kind, load(name, bytes));
    }
    // A path with an extension names a file that does not exist; anything
    // else is one of the app's own routes.
    let last = path.rsplit('/').next().unwrap_or_default();
    if last.contains('.') {
        return (StatusCode::NOT_FOUND, "not found\n").into_response();
    }
    let (_, kind, bytes) = ASSETS[0];
    let html = String::from_utf8_lossy(&load("index.html", bytes)).replacen(
        BASE_PLACEHOLDER,
        &format!("<base href=\"{}\">", base_for(path)),
        1,
    );
    serve(headers, kind, html.into_bytes())
}

/// The relative way from the directory of `/ui/<path>` back to `/ui/`:
/// one `../` per `/` in `path`.
fn base_for(path: &str) -> String {
    match path.matches('/').count() {
        0 => "./".to_string(),
        n => "../".repeat(n),
    }
}

/// An asset's bytes: embedded, or from `WASMCONNECT_CONSOLE_DIR` when set.
fn load(name: &str, embedded: &[u8]) -> Vec<u8> {
    static DIR: OnceLock<Option<std::path::PathBuf>> = OnceLock::new();
    let dir = DIR.get_or_init(|| std::env::var_os("WASMCONNECT_CONSOLE_DIR").map(Into::into));
    match dir {
        Some(dir) => std::fs::read(dir.join(name)).unwrap_or_else(|e| {
            tracing::warn!("console: cannot read {name} in {}: {e}", dir.display());
            embedded.to_vec()
        }),
        None => embedded.to_vec(),
    }
}

/// `body` with its content type, cache and security headers; a 304 when
/// the browser's copy is current.
fn serve(headers: &HeaderMap, kind: &'static str, body: Vec<u8>) -> Response {
    let etag = format!("\"{}\"", &hex::encode(Sha256::digest(&body))[..32]);
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let status = if fresh {
        StatusCode::NOT_MODIFIED
    } else {
        StatusCode::OK
    };
    let mut response = if fresh {
        status.into_response()
    } else {
        (status, body).into_response()
    };
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_base_leads_back_to_the_console_root() {
        assert_eq!(base_for(""), "./");
        assert_eq!(base_for("plugins"), "./");
        assert_eq!(base_for("connectors/a"), "../");
        assert_eq!(base_for("connectors/a/edit"), "../../");
    }

    #[test]
    fn the_embedded_index_has_the_base_placeholder() {
        let index = String::from_utf8_lossy(ASSETS[0].2);
        assert!(index.contains(BASE_PLACEHOLDER), "{index}");
    }

    #[tokio::test]
    async fn routes_assets_fallbacks_and_revalidation() {
        use tower::ServiceExt as _;
        let api = Router::new().fallback(|| async { (StatusCode::IM_A_TEAPOT, "api") });
        let app = with_console(api);
        let get = |uri: &str, etag: Option<&str>| {
            let mut req = Request::get(uri);
            if let Some(e) = etag {
                req = req.header(header::IF_NONE_MATCH, e);
            }
            app.clone().oneshot(
                req.body(axum::body::Body::empty())
                    .expect("a valid request"),
            )
        };
        let r = get("/ui", None).await.expect("infallible");
        assert_eq!(r.status(), StatusCode::PERMANENT_REDIRECT);
        assert_eq!(r.headers()[header::LOCATION], "ui/");
        let r = get("/ui/app.js", None).await.expect("infallible");
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(
            r.headers()[header::CONTENT_TYPE],
            "text/javascript; charset=utf-8"
        );
        let etag = r.headers()[header::ETAG]
            .to_str()
            .expect("ascii")
            .to_string();
        let r = get("/ui/app.js", Some(&etag)).await.expect("infallible");
        assert_eq!(r.status(), StatusCode::NOT_MODIFIED);
        let r = get("/ui/connectors/a/edit", None)
            .await
            .expect("infallible");
        assert_eq!(r.status(), StatusCode::OK);
        let body = axum::body::to_bytes(r.into_body(), usize::MAX)
            .await
            .expect("a body");
        assert!(String::from_utf8_lossy(&body).contains("<base href=\"../../\">"));
        // A connector named `a/b` is linked as `connectors/a%2Fb`: one level.
        let r = get("/ui/connectors/a%2Fb", None).await.expect("infallible");
        let body = axum::body::to_bytes(r.into_body(), usize::MAX)
            .await
            .expect("a body");
        assert!(String::from_utf8_lossy(&body).contains("<base href=\"../\">"));
        let r = get("/ui/missing.png", None).await.expect("infallible");
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        let r = get("/connectors", None).await.expect("infallible");
        assert_eq!(r.status(), StatusCode::IM_A_TEAPOT, "the API is behind");
    }
}
