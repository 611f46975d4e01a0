// What each errno says, as the C library's strerror() says it in English and in the
// zh_CN locale: the words a student meets in a terminal. Shared by server and page. No
// Node or DOM types here.
import type { Said } from './results.ts';

export const ERRNO_MESSAGES: Readonly<Record<string, Said>> = {
  EPERM: { en: 'Operation not permitted', zh: '不允许的操作' },
  ENOENT: { en: 'No such file or directory', zh: '没有那个文件或目录' },
  ESRCH: { en: 'No such process', zh: '没有那个进程' },
  EINTR: { en: 'Interrupted system call', zh: '被中断的系统调用' },
  EIO: { en: 'Input/output error', zh: '输入/输出错误' },
  ENXIO: { en: 'No such device or address', zh: '没有那个设备或地址' },
  E2BIG: { en: 'Argument list too long', zh: '参数列表过长' },
  ENOEXEC: { en: 'Exec format error', zh: '可执行文件格式错误' },
  EBADF: { en: 'Bad file descriptor', zh: '错误的文件描述符' },
  ECHILD: { en: 'No child processes', zh: '没有子进程' },
  EAGAIN: { en: 'Resource temporarily unavailable', zh: '资源暂时不可用' },
  ENOMEM: { en: 'Cannot allocate memory', zh: '无法分配内存' },
  EACCES: { en: 'Permission denied', zh: '权限不够' },
  EFAULT: { en: 'Bad address', zh: '错误的地址' },
  EBUSY: { en: 'Device or resource busy', zh: '设备或资源忙' },
  EEXIST: { en: 'File exists', zh: '文件已存在' },
  EXDEV: { en: 'Invalid cross-device link', zh: '无效的跨设备链接' },
  ENODEV: { en: 'No such device', zh: '没有那个设备' },
  ENOTDIR: { en: 'Not a directory', zh: '不是目录' },
  EISDIR: { en: 'Is a directory', zh: '是一个目录' },
  EINVAL: { en: 'Invalid argument', zh: '无效的参数' },
  EMFILE: { en: 'Too many open files', zh: '打开的文件过多' },
  ENFILE: { en: 'Too many open files in system', zh: '系统中打开的文件过多' },
  ENOTTY: { en: 'Inappropriate ioctl for device', zh: '对设备不适当的 ioctl 操作' },
  ETXTBSY: { en: 'Text file busy', zh: '文本文件忙' },
  EFBIG: { en: 'File too large', zh: '文件过大' },
  ENOSPC: { en: 'No space left on device', zh: '设备上没有空间' },
  EROFS: { en: 'Read-only file system', zh: '只读文件系统' },
  EMLINK: { en: 'Too many links', zh: '过多的链接' },
  EPIPE: { en: 'Broken pipe', zh: '断开的管道' },
  ERANGE: { en: 'Numerical result out of range', zh: '数值结果超出范围' },
  ENAMETOOLONG: { en: 'File name too long', zh: '文件名过长' },
  ENOSYS: { en: 'Function not implemented', zh: '函数未实现' },
  ENOTEMPTY: { en: 'Directory not empty', zh: '目录非空' },
  ELOOP: { en: 'Too many levels of symbolic links', zh: '符号连接的层数过多' },
  EOPNOTSUPP: { en: 'Operation not supported', zh: '不支持的操作' },
  ENOTSUP: { en: 'Operation not supported', zh: '不支持的操作' },
  EADDRINUSE: { en: 'Address already in use', zh: '地址已在使用' },
  EADDRNOTAVAIL: { en: 'Cannot assign requested address', zh: '无法指定被请求的地址' },
  EAFNOSUPPORT: { en: 'Address family not supported by protocol', zh: '协议不支持的地址族' },
  ENOBUFS: { en: 'No buffer space available', zh: '没有可用的缓冲区空间' },
  EOVERFLOW: { en: 'Value too large for defined data type', zh: '对已定义的数据类型来说值过大' },
  ECONNREFUSED: { en: 'Connection refused', zh: '拒绝连接' },
  ETIMEDOUT: { en: 'Connection timed out', zh: '连接超时' },
  ENETUNREACH: { en: 'Network is unreachable', zh: '网络不可达' },
  EHOSTUNREACH: { en: 'No route to host', zh: '没有到主机的路由' },
  EDQUOT: { en: 'Disk quota exceeded', zh: '超出磁盘限额' },
  ENOTBLK: { en: 'Block device required', zh: '需要块设备' },
  ENOMSG: { en: 'No message of desired type', zh: '没有符合需求格式的消息' },
  EIDRM: { en: 'Identifier removed', zh: '标识符已删除' },
};

/**
 * A failed call's message in the page's language: where it ends with the English words of
 * its errno (alone, or after a command's name), those words in Chinese; else as it came.
 */
export function errnoMessage(errno: string, msg: string, lang: 'en' | 'zh'): string {
  const said = ERRNO_MESSAGES[errno];
  if (lang === 'en' || !said || !msg.endsWith(said.en)) return msg;
  return msg.slice(0, msg.length - said.en.length) + said.zh;
}
