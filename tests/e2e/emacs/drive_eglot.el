;;; drive_eglot.el --- Emacs's eglot driving `bosun lsp', as a user with no plugin would  -*- lexical-binding: t; -*-
;; Open a file of the repository, start eglot on it, run bosun.createRun, answer the
;; question in the minibuffer menu (completing-read), poll bosun.getRun until the run
;; ends.  What it saw goes to BOSUN_OUT as JSON.
;;   emacs --batch -Q -l drive_eglot.el
(require 'package)
;; Debian's elpa-eglot (Emacs 28 has no eglot of its own); -Q skips the site start-up.
(add-to-list 'package-directory-list "/usr/share/emacs/site-lisp/elpa")
(package-initialize)
(require 'eglot)
(require 'json)

(defvar bosun-seen (make-hash-table :test 'equal)) ; encoded as a JSON object
(defvar bosun-asked nil)
(defun bosun-note (key value) (puthash key value bosun-seen))
(defun bosun-save ()
  (bosun-note "asked" (vconcat (reverse bosun-asked)))
  (with-temp-file (getenv "BOSUN_OUT")
    (insert (json-encode bosun-seen))))

;; The question menu: record it, pick the action titled BOSUN_PICK.
(advice-add 'completing-read :override
            (lambda (prompt collection &rest _)
              (let ((asked (make-hash-table :test 'equal)))
                (puthash "prompt" prompt asked)
                (puthash "titles" (vconcat collection) asked)
                (push asked bosun-asked))
              (getenv "BOSUN_PICK")))

(setq eglot-server-programs
      `((text-mode . ,(append (json-read-from-string (getenv "BOSUN_CMD")) nil))))
(setq eglot-sync-connect t eglot-connect-timeout 60)
(find-file (getenv "BOSUN_FILE"))
(text-mode)
(condition-case err
    (progn
      (call-interactively #'eglot)
      (let* ((server (eglot-current-server))
             (caps (eglot--capabilities server)))
        (bosun-note "workspace" (plist-get (plist-get (plist-get caps :experimental) :bosun)
                                          :workspace))
        (let* ((made (eglot-execute-command
                      server 'bosun.createRun
                      (vector (list :objective (getenv "BOSUN_OBJECTIVE")))))
               (run-id (plist-get (plist-get made :run) :id))
               (deadline (+ (float-time) 240))
               state)
          (bosun-note "run" run-id)
          (while (and (< (float-time) deadline)
                      (not (member state '("completed" "failed" "cancelled"))))
            (accept-process-output nil 0.5)
            (setq state (plist-get (plist-get (eglot-execute-command
                                                server 'bosun.getRun
                                                (vector (list :runId run-id)))
                                               :run)
                                   :state)))
          (bosun-note "state" state))))
  (error (bosun-note "errors" (vector (format "%S" err)))))
(bosun-save)
(kill-emacs 0)
