"""`coach db check` and `coach ingest --repair`: the caches (Chroma, the lexical index file) against the database.

`db check` changes nothing: it reports the schema, the passages, the lexical cache (fits / missing / stale /
damaged: search rebuilds it by itself) and the dense index's differences (passages without a vector, vectors of
no passage), and exits 1 when the dense index or the schema needs something done. `ingest --repair` fixes what it
reports: orphan vectors deleted, missing passages embedded again — one collection at a time under that
collection's ingest lock, so a running ingest's vectors that are not committed yet are never taken for orphans —
and the lexical cache rebuilt when it does not fit.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from app.settings import COLLECTIONS

if TYPE_CHECKING:
    from app.composition import Services
    from storage.db import UnitOfWork

SAMPLE = 3  # ids shown of each difference


def _sample(ids: tuple[str, ...]) -> str:
    shown = "、".join(ids[:SAMPLE])
    return f" (如 {shown}{' 等' if len(ids) > SAMPLE else ''})" if ids else ""


def _lexical_cache_line(services: Services, generation: int) -> str:
    fits, why = services.lexical_store.inspect(generation)
    if fits:
        return f"关键词索引缓存: 可用 ({services.lexical_store.path})"
    state = "缺失" if why == "missing" else "已损坏" if why.startswith("damaged") else "已过期"
    return f"关键词索引缓存: {state} ({why});下次检索时自动重建,也可运行 coach ingest --repair"


def cmd_db_check(services: Services) -> int:
    """Report the differences; 0 when nothing needs doing, 1 otherwise."""
    from storage.db import UnitOfWork
    from storage.schema import current_revision, head_revision

    shown = services.engine.url.render_as_string(hide_password=True)
    at, head = current_revision(services.engine), head_revision()
    if at != head:
        print(f"数据库: {shown},结构版本 {at},程序需要 {head}: 请运行 coach db upgrade")
        return 1
    print(f"数据库: {shown},结构版本 {at} (最新)")
    uow = UnitOfWork(services.engine)
    with uow.read() as session:
        generation = services.repository.generation(session)
        stored = len(services.repository.all_chunk_ids(session))
    print(f"知识库: {stored} 段 (第 {generation} 版)")
    print(_lexical_cache_line(services, generation))
    if services.settings.vector_store.mode == "off":
        print("向量索引: 未启用 (vector_store.mode = off),只用关键词检索")
        return 0
    from knowledge.index_check import compare_dense_index

    try:
        differences = compare_dense_index(uow=uow, repository=services.repository, dense=_dense(services))
    except Exception as exc:  # Chroma away or unreadable: that is the finding, not a crash of the check
        vs = services.settings.vector_store
        where = f"{vs.host}:{vs.port}" if vs.mode == "server" else str(services.settings.chroma_dir)
        print(f"向量索引: 无法打开 {where} ({type(exc).__name__}: {str(exc)[:200]});检索只用关键词")
        print("请检查 vector_store 设置、Chroma 服务或目录的权限")
        return 1
    if differences.consistent:
        print(f"向量索引: {differences.indexed} 个向量,与知识库一致")
        return 0
    print(f"向量索引: {differences.indexed} 个向量,与知识库 {differences.stored} 段不一致")
    if differences.missing:
        print(f"  缺少 {len(differences.missing)} 段的向量{_sample(differences.missing)}: 这些段落只能靠关键词检索找到")
    if differences.orphans:
        print(f"  多余 {len(differences.orphans)} 个向量{_sample(differences.orphans)}: 不属于任何段落 (检索时忽略)")
    print("请运行 coach ingest --repair 修复")
    return 1


def _dense(services: Services):  # type: ignore[no-untyped-def]
    dense = services.dense
    assert dense is not None  # vector_store.mode is not off
    return dense


def cmd_ingest_repair(services: Services) -> int:
    """Fix what `db check` reports; prints what was done."""
    uow = services.uow
    if services.settings.vector_store.mode == "off":
        print("向量索引: 未启用,跳过")
    else:
        _repair_dense(services, uow)
    with uow.read() as session:
        generation = services.repository.generation(session)
    fits, why = services.lexical_store.inspect(generation)
    services.search  # noqa: B018 — loads the cache, or rebuilds and writes it when it does not fit
    print("关键词索引缓存: 可用" if fits else f"关键词索引缓存: 已重建 (原因: {why})")
    return 0


def _repair_dense(services: Services, uow: UnitOfWork) -> None:
    from zoneinfo import ZoneInfo

    from ingest.pipeline import reconcile_dense_index
    from ingest.report import waiting_message
    from storage.ingest_lock import ingest_lock

    dense = _dense(services)
    zone = ZoneInfo(services.settings.app.time_zone)
    removed = added = 0
    for collection in COLLECTIONS:
        tell = lambda holder, c=collection: print(waiting_message(c, holder, zone=zone), file=sys.stderr)  # noqa: E731
        with ingest_lock(uow.engine, collection, on_wait=tell):
            gone, embedded = reconcile_dense_index(
                uow=uow, repository=services.repository, dense=dense, collections=[collection]
            )
        removed, added = removed + gone, added + embedded
    if removed or added:
        print(f"向量索引: 删除多余向量 {removed} 个,补上 {added} 段的向量")
    else:
        print("向量索引: 与知识库一致,无需修复")
