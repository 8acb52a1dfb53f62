//! `gatehouse backup …`: create, list, restore, verify, status, keygen. Each prints a JSON
//! document on stdout (for scripts) and, for create, restore and verify, a line for a
//! person on stderr; a failed restore or verify exits non-zero.

use super::with_database;
use crate::backup::{
    self, create_backup, list_backups, recent_runs, restore_backup, verify_backup, Destinations,
    Identity, Place, Recipients, Which,
};
use crate::config::Settings;
use crate::startup;
use anyhow::{bail, Result};
use clap::Subcommand;
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum BackupCommand {
    /// Write a backup now: pg_dump encrypted to GATEHOUSE_BACKUP_RECIPIENTS, with its
    /// manifest and checksum, in GATEHOUSE_BACKUP_DIR and (when set) GATEHOUSE_BACKUP_S3_URL.
    Create,
    /// List the complete backups, oldest first.
    List {
        #[arg(long, value_enum, default_value = "local")]
        from: Place,
    },
    /// Restore a backup into DATABASE_URL. Stop every Gatehouse instance first.
    Restore {
        /// A backup's name (gatehouse-YYYYMMDDTHHMMSSZ) or the path of its .dump.age file;
        /// default: the newest.
        backup: Option<String>,
        /// The age identity file that decrypts it (default GATEHOUSE_BACKUP_IDENTITY_FILE).
        #[arg(long)]
        identity: Option<PathBuf>,
        #[arg(long, value_enum, default_value = "local")]
        from: Place,
        /// Restore into a database that already holds tables: what the backup holds is
        /// dropped and recreated.
        #[arg(long)]
        force: bool,
    },
    /// Restore a backup into a scratch database, compare its row counts with the manifest,
    /// verify its audit chain, drop it and report.
    Verify {
        /// A backup's name or the path of its .dump.age file; default: the newest.
        backup: Option<String>,
        /// The age identity file that decrypts it (default GATEHOUSE_BACKUP_IDENTITY_FILE).
        #[arg(long)]
        identity: Option<PathBuf>,
        #[arg(long, value_enum, default_value = "local")]
        from: Place,
    },
    /// The latest runs (create, verify, restore) as recorded.
    Status {
        #[arg(long, default_value_t = 20)]
        limit: i64,
    },
    /// Make an age key pair for backups: the identity (private key) goes to FILE (mode
    /// 0600, never overwritten) and the public key, for GATEHOUSE_BACKUP_RECIPIENTS, is
    /// printed. Run it where the key will be kept, not on the server.
    Keygen {
        #[arg(long)]
        output: PathBuf,
    },
}

pub async fn run(settings: &Settings, cmd: BackupCommand) -> Result<()> {
    let destinations = Destinations::from_settings(settings);
    match cmd {
        BackupCommand::Keygen { output } => {
            let public = backup::generate_identity_file(&output)?;
            println!(
                "{}",
                serde_json::json!({"identity_file": output.display().to_string(), "public_key": public})
            );
            eprintln!(
                "the identity is in {}: keep it off the server (and a copy offline); set GATEHOUSE_BACKUP_RECIPIENTS={public} on the server",
                output.display()
            );
            Ok(())
        }
        BackupCommand::List { from } => {
            let listed = list_backups(&destinations, from).await?;
            println!("{}", serde_json::to_string_pretty(&listed)?);
            Ok(())
        }
        BackupCommand::Create => {
            let recipients = Recipients::from_settings(settings)?;
            with_database(settings, |db| async move {
                startup::migrate(&db.pool).await?;
                let url = backup::connection_url(settings)?;
                let created = create_backup(&db.pool, &url, &recipients, &destinations).await?;
                println!("{}", serde_json::to_string_pretty(&created)?);
                eprintln!(
                    "backup {} written ({} bytes, {} tables, {} rows){}",
                    created.name,
                    created.manifest.archive.size_bytes,
                    created.manifest.tables.len(),
                    created.manifest.rows(),
                    match &created.s3 {
                        Some(url) => format!(" and uploaded to {url}"),
                        None => String::new(),
                    }
                );
                Ok(())
            })
            .await
        }
        BackupCommand::Restore {
            backup,
            identity,
            from,
            force,
        } => {
            let which = which(backup, from);
            let identity = identity_from(identity, settings)?;
            // The pool only starts the embedded cluster when there is no DATABASE_URL;
            // nothing is migrated: the target takes the backup's schema.
            with_database(settings, |_db| async move {
                let url = backup::connection_url(settings)?;
                let restored = restore_backup(&destinations, &which, &identity, &url, force).await?;
                println!("{}", serde_json::to_string_pretty(&restored)?);
                if !restored.mismatches.is_empty() {
                    bail!(
                        "backup {} was restored, but {} tables do not hold the rows its manifest counts",
                        restored.backup,
                        restored.mismatches.len()
                    );
                }
                eprintln!(
                    "backup {} restored: {} tables, {} rows, in {:.1} s",
                    restored.backup, restored.tables, restored.rows, restored.seconds
                );
                Ok(())
            })
            .await
        }
        BackupCommand::Verify {
            backup,
            identity,
            from,
        } => {
            let which = which(backup, from);
            let identity = identity_from(identity, settings)?;
            // Not migrated: verify may run from another machine against production, to
            // record its run there; that machine's binary must not change the schema.
            with_database(settings, |db| async move {
                let scratch = backup::scratch_server_url(settings)?;
                let report =
                    verify_backup(&db.pool, &destinations, &which, &identity, &scratch).await?;
                println!("{}", serde_json::to_string_pretty(&report)?);
                if !report.ok {
                    bail!("{}", report.summary());
                }
                eprintln!("{}", report.summary());
                Ok(())
            })
            .await
        }
        BackupCommand::Status { limit } => {
            with_database(settings, |db| async move {
                let runs = recent_runs(&db.pool, limit.clamp(1, 1000)).await?;
                println!("{}", serde_json::to_string_pretty(&runs)?);
                Ok(())
            })
            .await
        }
    }
}

/// A name, the path of an archive (it has a `/` or ends in `.dump.age`), or the newest.
fn which(backup: Option<String>, from: Place) -> Which {
    match backup {
        None => Which::Newest(from),
        Some(b) if b.contains('/') || b.ends_with(".dump.age") => Which::File(PathBuf::from(b)),
        Some(name) => Which::Named(name, from),
    }
}

fn identity_from(given: Option<PathBuf>, settings: &Settings) -> Result<Identity> {
    let Some(path) = given.or_else(|| settings.backup_identity_file.clone()) else {
        bail!("--identity FILE is required (the age identity that decrypts the backup; GATEHOUSE_BACKUP_IDENTITY_FILE is unset)");
    };
    Ok(Identity::from_file(&path)?)
}
