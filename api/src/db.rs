//! Transactions that write.

use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseTransaction, DbErr, TransactionTrait};

/// Begins a transaction that is going to write. On SQLite it takes the write lock at once (a
/// write that changes nothing), so concurrent writers wait their turn on the busy timeout instead
/// of failing at their first write because another writer's commit made the snapshot they read
/// stale (SQLITE_BUSY_SNAPSHOT). PostgreSQL needs nothing of the kind.
pub async fn begin_write<C>(db: &C) -> Result<DatabaseTransaction, DbErr>
where
    C: TransactionTrait + ConnectionTrait,
{
    let txn = db.begin().await?;
    if txn.get_database_backend() == DatabaseBackend::Sqlite {
        txn.execute_unprepared("DELETE FROM settings WHERE 1 = 0")
            .await?;
    }
    Ok(txn)
}
