-- Neovim's built-in LSP client driving `bosun lsp`, as a user with no plugin would:
-- open a file of the repository, run bosun.createRun, answer the question in the menu,
-- wait for the run's progress to end. What it saw goes to BOSUN_OUT as JSON.
--   nvim --headless --clean -l drive_bosun.lua
local env = vim.env
local seen = { attached = false, asked = {}, progress = {}, messages = {}, errors = {} }

local function save()
  local fh = assert(io.open(env.BOSUN_OUT, "w"))
  fh:write(vim.json.encode(seen))
  fh:close()
end

-- The question menu: record it and pick the action titled BOSUN_PICK.
vim.ui.select = function(items, opts, on_choice)
  local titles = {}
  for _, item in ipairs(items) do
    table.insert(titles, item.title)
  end
  table.insert(seen.asked, { prompt = opts.prompt, titles = titles })
  for _, item in ipairs(items) do
    if item.title == env.BOSUN_PICK then
      return on_choice(item)
    end
  end
  on_choice(nil)
end

local done = false
vim.api.nvim_create_autocmd("LspProgress", {
  callback = function(ev)
    local value = ev.data.params.value
    table.insert(seen.progress, { kind = value.kind, title = value.title, message = value.message })
    if value.kind == "end" then
      done = true
    end
  end,
})

local notify = vim.notify
vim.notify = function(msg, level, opts)
  table.insert(seen.messages, msg)
  return notify(msg, level, opts)
end

vim.lsp.config("bosun", {
  cmd = vim.json.decode(env.BOSUN_CMD),
  root_markers = { ".git" },
  filetypes = { "markdown" },
})
vim.lsp.enable("bosun")
vim.cmd.edit(env.BOSUN_FILE)

local ok = vim.wait(30000, function()
  return #vim.lsp.get_clients({ name = "bosun" }) > 0
    and vim.lsp.get_clients({ name = "bosun" })[1].initialized
end, 50)
if not ok then
  table.insert(seen.errors, "bosun lsp never initialized")
  save()
  os.exit(1)
end
local client = vim.lsp.get_clients({ name = "bosun" })[1]
seen.attached = true
seen.root = client.root_dir
seen.workspace = ((client.server_capabilities.experimental or {}).bosun or {}).workspace

client:exec_cmd({ title = "Bosun", command = "bosun.createRun",
                  arguments = { { objective = env.BOSUN_OBJECTIVE } } }, { bufnr = 0 },
  function(err, result)
    if err then
      table.insert(seen.errors, err.message)
    else
      seen.run = result.run.id
    end
  end)

if not vim.wait(tonumber(env.BOSUN_WAIT_MS or "200000"), function() return done end, 100) then
  table.insert(seen.errors, "the run's progress never ended")
end
save()
client:stop()
os.exit(0)
