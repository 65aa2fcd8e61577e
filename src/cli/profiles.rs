//! `podctl profiles [--json]`: every profile `start` can find, in search order, with where
//! it comes from; a profile hidden by one of the same name earlier in the order is marked.

use std::fmt::Write as _;

use clap::Args;
use console::style;
use serde_json::json;

use crate::profile::catalog;
use crate::ui::Printer;

#[derive(Debug, Args)]
pub struct ProfilesArgs {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

pub(super) fn run(args: &ProfilesArgs, printer: &Printer) -> anyhow::Result<()> {
    let entries = catalog::list();
    if args.json {
        let list: Vec<_> = entries
            .iter()
            .map(|e| {
                let (model, served, format, error) = match &e.profile {
                    Ok(p) => (Some(p.model.clone()), Some(p.served_model_name.clone()), Some(p.tool_format.to_string()), None),
                    Err(err) => (None, None, None, Some(err.clone())),
                };
                json!({"name": e.name, "origin": e.origin.kind(), "path": e.origin.to_string(), "shadowed": e.shadowed,
                       "model": model, "served_model_name": served, "tool_format": format, "error": error})
            })
            .collect();
        printer.data(&serde_json::to_string_pretty(&list)?)?;
        return Ok(());
    }
    let width = entries.iter().map(|e| e.name.len()).max().unwrap_or(4).max(4);
    let mut out = String::new();
    for e in &entries {
        let name = format!("{:width$}", e.name);
        let name = if e.shadowed {
            style(name).dim().strikethrough().to_string()
        } else {
            style(name).bold().to_string()
        };
        let what = match &e.profile {
            Ok(p) => format!("{}  as `{}` ({})", p.model, p.served_model_name, p.tool_format),
            Err(err) => style(format!("invalid: {err}")).red().to_string(),
        };
        let origin = format!(
            "{:8} {}",
            e.origin.kind(),
            if e.origin.kind() == "built-in" { String::new() } else { e.origin.to_string() }
        );
        let _ = writeln!(out, "{name}  {what}\n{:width$}  {}", "", style(origin.trim_end()).dim());
        if let Ok(p) = &e.profile
            && let Some(d) = &p.description
        {
            let _ = writeln!(out, "{:width$}  {}", "", style(d).dim());
        }
    }
    let dirs: Vec<String> = catalog::search_dirs().iter().map(ToString::to_string).collect();
    let _ = writeln!(out, "\nsearched: {}, then built-in", dirs.join(", "));
    printer.data(&out)?;
    Ok(())
}
