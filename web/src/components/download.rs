//! Offering text the page holds (a CSV export, a private key) as a file download.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

/// Offers `text` as the file `name` of type `mime`: a Blob behind an object URL, clicked
/// through a link that is removed again; nothing leaves the browser.
pub fn offer_file(name: &str, mime: &str, text: &str) -> Result<(), String> {
    let parts = web_sys::js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(text));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options)
        .map_err(|_| "the browser refused to build the file".to_string())?;
    let url = web_sys::Url::create_object_url_with_blob(&blob)
        .map_err(|_| "the browser refused to offer the file".to_string())?;
    let doc = document();
    let link = doc
        .create_element("a")
        .ok()
        .and_then(|a| a.dyn_into::<web_sys::HtmlElement>().ok());
    if let (Some(link), Some(body)) = (link, doc.body()) {
        let _ = link.set_attribute("href", &url);
        let _ = link.set_attribute("download", name);
        let _ = body.append_child(&link);
        link.click();
        link.remove();
    }
    let _ = web_sys::Url::revoke_object_url(&url);
    Ok(())
}
