-- SPDX-License-Identifier: MIT
-- pandoc filter that turns one of our docs/*.md pages into a manual page (see docs/build.mk).
--
-- Our pages are Markdown for people first: "# name(N)" as the title, "##"
-- sections, "###" subsections, definition lists written with two-space
-- continuation lines (CommonMark's rule).  A manual page wants the title in
-- .TH (the Makefile passes it as metadata), sections as .SH in capitals,
-- subsections as .SS, and "name \- summary" in NAME so whatis and
-- apropos can read it.

-- "# name(N)": dropped, the title comes from metadata; the rest move up a level.
function Header(h)
  if h.level == 1 then
    return {}
  end
  h.level = h.level - 1
  if h.level == 1 then
    h.content = pandoc.walk_inline(pandoc.Span(h.content), {
      Str = function(s) return pandoc.Str(pandoc.text.upper(s.text)) end
    }).content
  end
  return h
end

-- Tight list items and definitions come as Plain blocks, which the man
-- writer runs into the block before them (a code block, say): in an item
-- of more than one block they become paragraphs.  One-line items, and
-- table cells, stay tight.
local function loosen(blocks)
  if #blocks < 2 then
    return blocks
  end
  for i, b in ipairs(blocks) do
    if b.t == "Plain" then
      blocks[i] = pandoc.Para(b.content)
    end
  end
  return blocks
end

function DefinitionList(dl)
  for _, item in ipairs(dl.content) do
    for j, def in ipairs(item[2]) do
      item[2][j] = loosen(def)
    end
  end
  return dl
end

function BulletList(l)
  for i, item in ipairs(l.content) do
    l.content[i] = loosen(item)
  end
  return l
end
OrderedList = BulletList

-- Tables: our cells hold long paths and code that tbl cannot fit into 80
-- columns (it warns, and wraps badly), so on a manual page each row becomes a
-- definition: the first cell is the term, each other cell a paragraph
-- "header: cell".  A table whose header has only its first cell (a caption)
-- gets that caption as a paragraph before it.
local function cell_inlines(blocks)
  local out = pandoc.List()
  for i, b in ipairs(blocks) do
    if i > 1 then
      out:insert(pandoc.Space())
    end
    if b.content then
      out:extend(b.content)
    end
  end
  return out
end

function Table(tbl)
  local st = pandoc.utils.to_simple_table(tbl)
  local heads = {}
  local captioned = #st.headers > 0
  for j, h in ipairs(st.headers) do
    heads[j] = cell_inlines(h)
    if j > 1 and #heads[j] > 0 then
      captioned = false
    end
  end
  local items = {}
  for _, row in ipairs(st.rows) do
    local defs = {}
    for j = 2, #row do
      local text = cell_inlines(row[j])
      if heads[j] and #heads[j] > 0 then
        local label = pandoc.List({ pandoc.Emph(heads[j]), pandoc.Str(":"), pandoc.Space() })
        label:extend(text)
        text = label
      end
      if #text > 0 then
        table.insert(defs, pandoc.Para(text))
      end
    end
    if #defs == 0 then
      defs = { pandoc.Para({}) }
    end
    table.insert(items, { cell_inlines(row[1]), { defs } })
  end
  local out = {}
  if captioned and heads[1] and #heads[1] > 0 then
    table.insert(out, pandoc.Para(heads[1]))
  end
  table.insert(out, pandoc.DefinitionList(items))
  return out
end

-- NAME: plain text, and the summary's dash becomes roff's "\-", the separator
-- whatis and apropos read.
function Pandoc(doc)
  local in_name = false
  for i, b in ipairs(doc.blocks) do
    if b.t == "Header" then
      in_name = pandoc.utils.stringify(b) == "NAME"
    elseif in_name and b.t == "Para" then
      local dashed = false
      for j, inl in ipairs(b.content) do
        if inl.t == "Code" then
          -- plain text: lexgrog reads font escapes as part of the name
          b.content[j] = pandoc.Str(inl.text)
        elseif not dashed and inl.t == "Str" and
            (inl.text == "—" or inl.text == "–" or inl.text == "-") then
          b.content[j] = pandoc.RawInline("man", "\\-")
          dashed = true
        end
      end
      in_name = false
    end
  end
  return doc
end
