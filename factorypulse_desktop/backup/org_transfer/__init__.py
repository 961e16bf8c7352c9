"""Moving one organization between databases: `factorypulse org export` / `org import`.

Modules: `tables` (which table is carried and how), `archive` (the file format and its manifest),
`export` (reading one organization in one snapshot) and `load` (the checked, single-transaction
import).
"""
