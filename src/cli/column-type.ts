import type { ColumnType } from '../core/schema.js';
import type { DbColumn } from './read-information-schema.js';

const BY_DATA_TYPE: Readonly<Record<string, ColumnType>> = {
  tinyint: 'integer', smallint: 'integer', mediumint: 'integer', int: 'integer', integer: 'integer', year: 'integer',
  bigint: 'bigint',
  float: 'real', double: 'real', real: 'real', 'double precision': 'real',
  decimal: 'decimal', numeric: 'decimal', dec: 'decimal', fixed: 'decimal',
  char: 'text', varchar: 'text', tinytext: 'text', text: 'text', mediumtext: 'text', longtext: 'text',
  enum: 'text', set: 'text', time: 'text', uuid: 'text', inet4: 'text', inet6: 'text',
  date: 'datetime', datetime: 'datetime', timestamp: 'datetime',
  json: 'json',
  binary: 'blob', varbinary: 'blob', tinyblob: 'blob', blob: 'blob', mediumblob: 'blob', longblob: 'blob', bit: 'blob',
};

/**
 * The schema column type of a MySQL/MariaDB column: `tinyint(1)` is boolean, a MariaDB `json_valid` check
 * makes a text column json; undefined for types with no counterpart (spatial types).
 */
export function columnTypeOf(column: DbColumn): ColumnType | undefined {
  if (/^tinyint\(1\)/.test(column.columnType) || column.dataType === 'bool' || column.dataType === 'boolean') return 'boolean';
  if (column.json) return 'json';
  return BY_DATA_TYPE[column.dataType];
}
