//! PLACEHOLDER: replaced by the module's tests.

use edgechat_tests::*;

pub fn trials(_server: &'static Server) -> Vec<Trial> {
    Vec::new()
}
