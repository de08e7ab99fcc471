import { DuckDBInstance } from '@duckdb/node-api';
import { duckStgSql, DUCK_MART_SQL, MARTS, sqlNow } from './dist/bench/sql.js';
const i = await DuckDBInstance.create(':memory:', { memory_limit: process.argv[2] ?? '1GB', preserve_insertion_order: 'false', temp_directory: '/tmp/q4duck' });
const c = await i.connect(); await c.run("SET TimeZone='UTC'");
let t = performance.now();
try { await c.run(duckStgSql('/work/benchdata/tripclick', sqlNow(new Date()))); } catch (e) { console.log('stg failed', e.message.split('\n')[0]); }
console.log('stg', (performance.now()-t)/1000);
for (const m of MARTS) { t = performance.now(); try { await c.run(`COPY (${DUCK_MART_SQL[m.name]}) TO '/tmp/q4-${m.name}.csv' (FORMAT csv)`); } catch (e) { console.log(m.name, 'failed', e.message.split('\n')[0]); } console.log(m.name, (performance.now()-t)/1000); }
console.log('rss', process.resourceUsage().maxRSS/1024, 'MiB');
